"""overlap counts: per round, school and pair of submissions (SWV, municipality), the children both sets hold

Revision ID: e8b4c1d7a2f3
Revises: d7a3f9c2b5e8
Create Date: 2026-12-21 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8b4c1d7a2f3'
down_revision = 'd7a3f9c2b5e8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'overlap_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('vestigingscode', sa.String(length=6), nullable=False),
        sa.Column('swv_node_id', sa.Integer(), nullable=False),
        sa.Column('gemeente_node_id', sa.Integer(), nullable=False),
        sa.Column('swv_submission_id', sa.Integer(), nullable=False),
        sa.Column('gemeente_submission_id', sa.Integer(), nullable=False),
        sa.Column('beide', sa.Integer(), nullable=False),
        sa.Column('counted_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.CheckConstraint('beide >= 0', name=op.f('ck_overlap_counts_beide_nonnegative')),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_overlap_counts_round_id_rounds')),
        sa.ForeignKeyConstraint(['swv_node_id'], ['nodes.id'], name=op.f('fk_overlap_counts_swv_node_id_nodes')),
        sa.ForeignKeyConstraint(['gemeente_node_id'], ['nodes.id'], name=op.f('fk_overlap_counts_gemeente_node_id_nodes')),
        sa.ForeignKeyConstraint(['swv_submission_id'], ['submissions.id'], name=op.f('fk_overlap_counts_swv_submission_id_submissions')),
        sa.ForeignKeyConstraint(['gemeente_submission_id'], ['submissions.id'], name=op.f('fk_overlap_counts_gemeente_submission_id_submissions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_overlap_counts')),
        sa.UniqueConstraint('round_id', 'swv_submission_id', 'gemeente_submission_id', 'vestigingscode', name='uq_overlap_counts_pair_school'),
    )
    with op.batch_alter_table('overlap_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_overlap_counts_round_id'), ['round_id'], unique=False)


def downgrade():
    with op.batch_alter_table('overlap_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_overlap_counts_round_id'))
    op.drop_table('overlap_counts')
