"""roles per brand, custom roles, organization admins, invitations

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 21:34:57

Staff accounts had one of three role words (admin, editor, agent) in users.role, and editors and
agents a brand_members row per brand. Now users.role says staff or customer; what a member may
do comes from roles (built-in and custom permission sets) held per brand (brand_members.role_id)
or on every brand (users.every_brand_role_id), and users.org_admin. Former admins become
organization admins holding "admin" on every brand; editors and agents keep their brands with
the role of the same name.
"""
import json

from alembic import op
import sqlalchemy as sa

import kb.db


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

TICKETS = ["tickets.view", "tickets.reply", "tickets.note", "tickets.assign", "tickets.delete",
           "tickets.export", "tickets.block"]
CUSTOMERS = ["customers.view", "customers.edit"]
KB = ["kb.write", "kb.publish"]
OTHER = ["forms", "automation", "reports", "settings"]
BUILTIN = [
    (1, "admin", "Admin", TICKETS + CUSTOMERS + KB + OTHER),
    (2, "editor", "Editor", KB + ["forms"]),
    (3, "agent", "Agent", ["tickets.view", "tickets.reply", "tickets.note", "tickets.assign",
                           "customers.view"]),
    (4, "light_agent", "Light agent", ["tickets.view", "tickets.note", "customers.view"]),
]


def upgrade():
    op.create_table('roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('permissions', sa.JSON(), nullable=False),
    sa.Column('created_at', kb.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roles')),
    sa.UniqueConstraint('key', name=op.f('uq_roles_key')),
    sa.UniqueConstraint('name', name=op.f('uq_roles_name'))
    )
    bind = op.get_bind()
    for i, key, name, perms in BUILTIN:
        bind.execute(
            sa.text("INSERT INTO roles (id, key, name, permissions, created_at) "
                    "VALUES (:id, :key, :name, :permissions, CURRENT_TIMESTAMP)"),
            {"id": i, "key": key, "name": name, "permissions": json.dumps(perms)},
        )
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SELECT setval('roles_id_seq', 100)"))

    with op.batch_alter_table('brand_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role_id', sa.Integer(), nullable=True))
    bind.execute(sa.text(
        "UPDATE brand_members SET role_id = CASE (SELECT role FROM users "
        "WHERE users.id = brand_members.user_id) WHEN 'editor' THEN 2 ELSE 3 END"
    ))
    with op.batch_alter_table('brand_members', schema=None) as batch_op:
        batch_op.alter_column('role_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_brand_members_role_id'), ['role_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_brand_members_role_id_roles'), 'roles', ['role_id'], ['id'])

    # Plain ADD COLUMN: a batch rebuild of users on SQLite would cascade into every table
    # that points at it.
    op.add_column('users', sa.Column('org_admin', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('every_brand_role_id', sa.Integer(), nullable=True))
    op.add_column('users', sa.Column('login_id', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('invited_at', kb.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_users_login_id'), 'users', ['login_id'], unique=True)
    bind.execute(sa.text(
        "UPDATE users SET org_admin = :yes, every_brand_role_id = 1 WHERE role = 'admin'"
    ), {"yes": True})
    bind.execute(sa.text("UPDATE users SET role = 'staff' WHERE role IN ('admin', 'editor', 'agent')"))
    # The audit log filtered by kind (audit / system) or by brand, newest first.
    op.create_index('ix_audit_entries_kind_at', 'audit_entries', ['kind', 'at'], unique=False)
    op.create_index('ix_audit_entries_brand_at', 'audit_entries', ['brand_id', 'at'], unique=False)


def downgrade():
    op.drop_index('ix_audit_entries_brand_at', table_name='audit_entries')
    op.drop_index('ix_audit_entries_kind_at', table_name='audit_entries')
    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE users SET role = CASE WHEN every_brand_role_id = 1 OR org_admin = :yes "
        "THEN 'admin' WHEN EXISTS (SELECT 1 FROM brand_members m WHERE m.user_id = users.id "
        "AND m.role_id = 2) THEN 'editor' ELSE 'agent' END WHERE role = 'staff'"
    ), {"yes": True})
    op.drop_index(op.f('ix_users_login_id'), table_name='users')
    for column in ('invited_at', 'login_id', 'every_brand_role_id', 'org_admin'):
        op.drop_column('users', column)

    with op.batch_alter_table('brand_members', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_brand_members_role_id_roles'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_brand_members_role_id'))
        batch_op.drop_column('role_id')

    op.drop_table('roles')
