# Two helpers changed tenancy at once (issue 13): names that refuse bidi controls, and
# invitations. This joins the two leaves; no operations.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0002_names_refuse_bidi_controls"),
        ("tenancy", "0003_invitations"),
    ]

    operations = []
