"""bot: bot_replies (what the FAQ bot said in a ticket, its buttons and feedback) and
bot_settings (a site's own thresholds and bring-your-own-bot webhook)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 05:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bot_replies',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('workspace_id', sa.String(length=26), nullable=False),
    sa.Column('ticket_id', sa.String(length=26), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('faq_id', sa.String(length=26), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_bot_replies_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_bot_replies_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_replies')),
    sa.UniqueConstraint('ticket_id', 'client_id', name=op.f('uq_bot_replies_ticket_id_client_id'))
    )
    with op.batch_alter_table('bot_replies', schema=None) as batch_op:
        batch_op.create_index('ix_bot_replies_workspace_ticket', ['workspace_id', 'ticket_id', 'created_at'], unique=False)

    op.create_table('bot_settings',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('workspace_id', sa.String(length=26), nullable=False),
    sa.Column('site_id', sa.String(length=26), nullable=False),
    sa.Column('answer_threshold', sa.Float(), nullable=False),
    sa.Column('margin', sa.Float(), nullable=False),
    sa.Column('suggest_threshold', sa.Float(), nullable=False),
    sa.Column('calibration', sa.JSON(), nullable=True),
    sa.Column('webhook_url', sa.String(length=2048), nullable=True),
    sa.Column('webhook_secret', sa.String(length=128), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_bot_settings_site_id_sites'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_bot_settings_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_settings')),
    sa.UniqueConstraint('site_id', name=op.f('uq_bot_settings_site_id'))
    )
    with op.batch_alter_table('bot_settings', schema=None) as batch_op:
        batch_op.create_index('ix_bot_settings_workspace_site', ['workspace_id', 'site_id'], unique=False)


def downgrade():
    with op.batch_alter_table('bot_settings', schema=None) as batch_op:
        batch_op.drop_index('ix_bot_settings_workspace_site')

    op.drop_table('bot_settings')
    with op.batch_alter_table('bot_replies', schema=None) as batch_op:
        batch_op.drop_index('ix_bot_replies_workspace_ticket')

    op.drop_table('bot_replies')
