"""submission quarantine: a submission the combine cannot use is set aside with its reason

Revision ID: c3d8f1a2b4e6
Revises: b7e2a4c1d9f0
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d8f1a2b4e6'
down_revision = 'b7e2a4c1d9f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quarantine_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('quarantine_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('quarantined_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('quarantined_at')
        batch_op.drop_column('quarantine_reason')
        batch_op.drop_column('quarantine_code')
