"""article view counts and label names

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 14:00:00

"Popular articles" per locale counts how often each article is opened in each locale's help
center, one row per article, locale and day (article_view_counts). Article labels get a name per
locale for customers (label_names); a label without one stays internal in that locale.
"""

import sqlalchemy as sa
from alembic import op


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "article_view_counts",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "locale", "day"),
    )
    op.create_index(
        "ix_article_view_counts_brand_locale_day",
        "article_view_counts",
        ["brand_id", "locale", "day"],
    )
    op.create_table(
        "label_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("brand_id", "label", "locale"),
    )


def downgrade():
    op.drop_table("label_names")
    op.drop_index("ix_article_view_counts_brand_locale_day", table_name="article_view_counts")
    op.drop_table("article_view_counts")
