from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User


@pytest.mark.smoke
def test_it_creates_a_staff_account_and_a_demo_user_once(db, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("create_demo_accounts", stdout=out)
    printed = dict(re.findall(r"username '(\w+)', password '([^']+)'", out.getvalue()))

    assert set(printed) == {"staff", "demo"}
    staff, demo = User.objects.get(username="staff"), User.objects.get(username="demo")
    assert staff.is_staff and staff.is_superuser and staff.check_password(printed["staff"])
    assert not demo.is_staff and demo.check_password(printed["demo"])
    assert demo.namespace.name == "demo"

    again = StringIO()
    call_command("create_demo_accounts", stdout=again)
    assert again.getvalue() == ""
    assert User.objects.count() == 2


def test_it_refuses_outside_development(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=true"):
        call_command("create_demo_accounts")
    assert not User.objects.exists()
