"""round calendar: a deadline per round, the schools a release holds back

Revision ID: b8c4e2f7a1d9
Revises: a8b3d6e1f0c7
Create Date: 2026-12-08 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8c4e2f7a1d9'
down_revision = 'a8b3d6e1f0c7'
branch_labels = None
depends_on = None


def upgrade():
    # Both nullable: a round opened before the calendar has no deadline (its first publication waits
    # for every municipality, the close or an admin, as before), and an older release held nothing back.
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_back', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_column('held_back')
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('deadline')
