"""sessions that end and a BIO audit line: users.session_version; audit_events.result, origin, actor

Revision ID: d4e9a7b3c2f1
Revises: c3d8f1a2b4e6
Create Date: 2027-01-10 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e9a7b3c2f1'
down_revision = 'c3d8f1a2b4e6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result', sa.String(length=10), server_default='ok', nullable=False))
        batch_op.add_column(sa.Column('origin', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('actor', sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('actor')
        batch_op.drop_column('origin')
        batch_op.drop_column('result')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
