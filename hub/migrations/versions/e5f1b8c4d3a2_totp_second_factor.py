"""second factor: users.totp_secret, totp_last_step, recovery_hashes

Revision ID: e5f1b8c4d3a2
Revises: d4e9a7b3c2f1
Create Date: 2027-01-10 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5f1b8c4d3a2'
down_revision = 'd4e9a7b3c2f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recovery_hashes', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('recovery_hashes')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
