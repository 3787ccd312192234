"""round calendar: a deadline per round

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
    # Nullable: a round opened before the calendar has no deadline (its first publication waits
    # for every municipality, the close or an admin, as before).
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('deadline')
