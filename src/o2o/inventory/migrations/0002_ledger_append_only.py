"""The ledger is append-only: the database refuses UPDATE and DELETE on movements."""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION inventory_movement_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'inventory_movement is append-only (% refused)', TG_OP USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_movement_no_update BEFORE UPDATE OR DELETE ON inventory_movement
  FOR EACH ROW EXECUTE FUNCTION inventory_movement_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS inventory_movement_no_update ON inventory_movement;
DROP FUNCTION IF EXISTS inventory_movement_append_only();
"""
SQLITE_UP = [
    """CREATE TRIGGER inventory_movement_no_update BEFORE UPDATE ON inventory_movement
       BEGIN SELECT RAISE(ABORT, 'inventory_movement is append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER inventory_movement_no_delete BEFORE DELETE ON inventory_movement
       BEGIN SELECT RAISE(ABORT, 'inventory_movement is append-only (DELETE refused)'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS inventory_movement_no_update;",
    "DROP TRIGGER IF EXISTS inventory_movement_no_delete;",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        if isinstance(statements, str):
            statements = [statements]
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": PG_DOWN, "sqlite": SQLITE_DOWN}),
        ),
    ]
