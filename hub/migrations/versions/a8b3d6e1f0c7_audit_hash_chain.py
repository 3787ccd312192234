"""audit_events: a hash chain (prev_hash, line_hash)

Revision ID: a8b3d6e1f0c7
Revises: f6a2c9d5e4b3
Create Date: 2026-12-01 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8b3d6e1f0c7'
down_revision = 'f6a2c9d5e4b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('line_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('line_hash')
        batch_op.drop_column('prev_hash')
