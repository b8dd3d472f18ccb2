"""The account under which Model Catalog logs the changes it makes itself (a webhook it disables after failures).

Its username, "Model Catalog", holds a space, which Django's username validator refuses in every form that makes or
renames an account (the admin's, createsuperuser's): no person can hold it. It cannot sign in: it is inactive and has
no usable password.
"""

from __future__ import annotations

from django.contrib.auth.models import User

SYSTEM_USERNAME = "Model Catalog"


def system_user() -> User:
    """The system's account, made the first time it is needed."""
    user, created = User.objects.get_or_create(username=SYSTEM_USERNAME, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
