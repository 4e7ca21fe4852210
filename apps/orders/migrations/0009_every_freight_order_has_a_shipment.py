from django.db import migrations


def give_every_freight_order_a_shipment(apps, schema_editor):
    """Freight orders made before shipments existed (or straight through `order_create`) get an
    empty shipment: from now on every freight order has one, and its completeness holds the
    order before transit like any other."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")  # every tenant's rows
    order_model = apps.get_model("orders", "Order")
    shipment_model = apps.get_model("orders", "Shipment")
    alias = schema_editor.connection.alias
    without = order_model.objects.using(alias).filter(kind="freight", shipment__isnull=True)
    shipment_model.objects.using(alias).bulk_create(
        (
            shipment_model(
                order_id=order.id,
                client_organization_id=order.client_organization_id,
                supplier_organization_id=order.supplier_organization_id,
            )
            for order in without.only("id", "client_organization_id", "supplier_organization_id").iterator()
        ),
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_shipments")]

    operations = [migrations.RunPython(give_every_freight_order_a_shipment, migrations.RunPython.noop)]
