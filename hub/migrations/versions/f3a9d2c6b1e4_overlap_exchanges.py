"""overlap exchanges: one per pair of submissions (SWV, municipality) in a round, and their payloads while they run

Revision ID: f3a9d2c6b1e4
Revises: e8b4c1d7a2f3
Create Date: 2026-12-01 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9d2c6b1e4'
down_revision = 'e8b4c1d7a2f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'overlap_exchanges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('exchange_id', sa.String(length=64), nullable=False),
        sa.Column('swv_node_id', sa.Integer(), nullable=False),
        sa.Column('gemeente_node_id', sa.Integer(), nullable=False),
        sa.Column('swv_submission_id', sa.Integer(), nullable=False),
        sa.Column('gemeente_submission_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('gemeente_schools', sa.JSON(), nullable=True),
        sa.Column('schools_counted', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('gemeente_blinded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('swv_blinded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('gemeente_reblinded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('swv_reblinded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_overlap_exchanges_round_id_rounds')),
        sa.ForeignKeyConstraint(['swv_node_id'], ['nodes.id'], name=op.f('fk_overlap_exchanges_swv_node_id_nodes')),
        sa.ForeignKeyConstraint(['gemeente_node_id'], ['nodes.id'], name=op.f('fk_overlap_exchanges_gemeente_node_id_nodes')),
        sa.ForeignKeyConstraint(['swv_submission_id'], ['submissions.id'], name=op.f('fk_overlap_exchanges_swv_submission_id_submissions')),
        sa.ForeignKeyConstraint(['gemeente_submission_id'], ['submissions.id'], name=op.f('fk_overlap_exchanges_gemeente_submission_id_submissions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_overlap_exchanges')),
        sa.UniqueConstraint('exchange_id', name=op.f('uq_overlap_exchanges_exchange_id')),
        sa.UniqueConstraint('round_id', 'swv_submission_id', 'gemeente_submission_id', name='uq_overlap_exchanges_pair'),
    )
    with op.batch_alter_table('overlap_exchanges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_overlap_exchanges_round_id'), ['round_id'], unique=False)
    op.create_table(
        'overlap_payloads',
        sa.Column('exchange_pk', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.ForeignKeyConstraint(['exchange_pk'], ['overlap_exchanges.id'], name=op.f('fk_overlap_payloads_exchange_pk_overlap_exchanges'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('exchange_pk', 'kind', name=op.f('pk_overlap_payloads')),
    )


def downgrade():
    op.drop_table('overlap_payloads')
    with op.batch_alter_table('overlap_exchanges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_overlap_exchanges_round_id'))
    op.drop_table('overlap_exchanges')
