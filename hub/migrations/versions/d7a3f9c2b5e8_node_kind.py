"""node kind: a node is a municipality (gemeentecode) or an SWV (SWV code)

Revision ID: d7a3f9c2b5e8
Revises: c9d2e6a4f1b7
Create Date: 2026-12-20 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7a3f9c2b5e8'
down_revision = 'c9d2e6a4f1b7'
branch_labels = None
depends_on = None


def upgrade():
    # Every node registered so far is a municipality: its code stays, its kind is "gemeente". The code
    # column widens to six characters for an SWV code (PO2607).
    # Two batches: SQLite's table copy forgets a constraint created in the batch that renames its column.
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_constraint('uq_nodes_gemeentecode', type_='unique')
        batch_op.alter_column('gemeentecode', new_column_name='code', existing_type=sa.String(length=4),
                              type_=sa.String(length=6), existing_nullable=False)
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='gemeente'))
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_nodes_code'), ['code'])


def downgrade():
    # An SWV node has no place in the older schema: it goes, with its keys, tokens and submissions.
    op.execute("DELETE FROM submissions WHERE node_id IN (SELECT id FROM nodes WHERE kind <> 'gemeente')")
    op.execute("DELETE FROM enrolment_tokens WHERE node_id IN (SELECT id FROM nodes WHERE kind <> 'gemeente')")
    op.execute("DELETE FROM node_keys WHERE node_id IN (SELECT id FROM nodes WHERE kind <> 'gemeente')")
    op.execute("DELETE FROM nodes WHERE kind <> 'gemeente'")
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_constraint('uq_nodes_code', type_='unique')
        batch_op.drop_column('kind')
        batch_op.alter_column('code', new_column_name='gemeentecode', existing_type=sa.String(length=6),
                              type_=sa.String(length=4), existing_nullable=False)
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_nodes_gemeentecode'), ['gemeentecode'])
