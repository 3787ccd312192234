"""factsheet archives: ZIPs of factsheet PDFs built in the background

Revision ID: b7e2a4c1d9f0
Revises: 9c5e98f38bda
Create Date: 2026-11-23 12:35:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2a4c1d9f0'
down_revision = '9c5e98f38bda'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('factsheet_archives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('scope_kind', sa.String(length=10), nullable=False),
    sa.Column('scope_code', sa.String(length=20), nullable=True),
    sa.Column('gemeente', sa.String(length=6), nullable=True),
    sa.Column('schooljaar', sa.String(length=9), nullable=False),
    sa.Column('base_url', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('school_count', sa.Integer(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_factsheet_archives_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_factsheet_archives'))
    )
    with op.batch_alter_table('factsheet_archives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_factsheet_archives_requested_by'), ['requested_by'], unique=False)


def downgrade():
    with op.batch_alter_table('factsheet_archives', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_factsheet_archives_requested_by'))

    op.drop_table('factsheet_archives')
