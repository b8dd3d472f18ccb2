"""Where webhooks may not go: plain HTTP (unless allowed), private, loopback, link-local and metadata addresses
(unless allowed), a name that resolves to one of them, a redirect; and the answer is read only up to a cap."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from activity.services import comment_on_version
from tests.tasks import run_tasks
from tests.webhooks.conftest import hook
from tests.webhooks.receiver import Answer, receiving
from webhooks.models import RESPONSE_EXCERPT, Delivery, DeliveryStatus, Webhook
from webhooks.safety import UnsafeURL, resolve
from webhooks.services import WebhookError, create_webhook

REFUSED = [
    ("https://10.1.2.3/hook", "10.1.2.3, a private address"),
    ("https://172.16.0.9/hook", "172.16.0.9, a private address"),
    ("https://192.168.0.10:8443/hook", "192.168.0.10, a private address"),
    ("https://100.64.0.1/hook", "100.64.0.1, a private address"),
    ("https://127.0.0.1/hook", "127.0.0.1, a loopback address"),
    ("https://127.1.2.3/hook", "127.1.2.3, a loopback address"),
    ("https://[::1]/hook", "::1, a loopback address"),
    ("https://[::ffff:127.0.0.1]/hook", "::ffff:7f00:1, a loopback address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local or cloud metadata address"),
    ("https://[fe80::1]/hook", "fe80::1, a link-local or cloud metadata address"),
    ("https://[fd00:ec2::254]/hook", "fd00:ec2::254, a link-local or cloud metadata address"),
    ("https://168.63.129.16/hook", "168.63.129.16, a link-local or cloud metadata address"),
    ("https://0.0.0.0/hook", "0.0.0.0, an address that cannot receive webhooks"),
    ("https://localhost/hook", "resolves to 127.0.0.1, a loopback address"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_internal_destinations_are_refused(settings: Any, url: str, reason: str) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(UnsafeURL, match="may not be sent there") as refused:
        resolve(url)
    assert reason in str(refused.value)


def test_a_public_address_is_accepted_and_is_the_one_connected_to(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    destination = resolve("https://93.184.215.14:8443/hook")
    assert (destination.host, destination.port, destination.address) == ("93.184.215.14", 8443, "93.184.215.14")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/", "must start with https://"),
        ("ftp://hooks.example.com/", "must start with https://"),
        ("https://user:pw@hooks.example.com/", "credentials in a header"),
        ("https:///no-host", "no host name"),
        ("https://hooks.example.com:99999/", "not a valid URL"),
        ("javascript:alert(1)", "must start with https://"),
    ],
)
def test_urls_of_the_wrong_form_are_refused(settings: Any, url: str, message: str) -> None:
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(UnsafeURL, match=message):
        resolve(url)


def test_allowing_private_destinations_lets_a_receiver_on_this_machine_work(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_ALLOW_HTTP = True
    assert resolve("http://localhost:8080/hook").address in {"127.0.0.1", "::1"}


def test_the_service_refuses_an_internal_url_with_the_reason(settings: Any, model: Any, owner: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(WebhookError, match=r"resolves to 169\.254\.169\.254"):
        create_webhook(actor=owner, model=model, url="https://169.254.169.254/")
    assert not Webhook.objects.exists()


def test_only_owners_manage_a_models_webhooks(model: Any, editor: Any, local: Any) -> None:
    with pytest.raises(PermissionDenied, match=r"Only owners of this model can manage its webhooks\."):
        create_webhook(actor=editor, model=model, url="http://127.0.0.1:9/hook")


@pytest.mark.usefixtures("local")
def test_a_destination_that_became_internal_is_refused_at_delivery(
    settings: Any, version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving() as receiver:
        webhook, _ = hook(owner, version.model, receiver.url.replace("127.0.0.1", "localhost"))
        settings.WEBHOOK_ALLOW_PRIVATE = False
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Psst")
        run_tasks()
    assert receiver.received == []
    [delivery] = Delivery.objects.filter(webhook=webhook)
    assert delivery.status != DeliveryStatus.DELIVERED
    assert "resolves to 127.0.0.1, a loopback address" in delivery.error


@pytest.mark.usefixtures("local")
def test_a_name_is_resolved_once_and_the_delivery_connects_to_that_address(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: a name that answers 127.0.0.1 to the check and something else later must not matter, because
    the delivery connects to the address the check saw, sending the name as Host."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.rebind.test":
            lookups.append(host)
            return real("127.0.0.1" if len(lookups) == 1 else "192.0.2.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    with receiving() as receiver:
        webhook, _ = hook(owner, version.model, receiver.url)
        Webhook.objects.filter(pk=webhook.pk).update(url=f"http://hooks.rebind.test:{receiver.port}/hooks/catalog")
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Rebind?")
        run_tasks()
    [received] = receiver.received
    assert received.headers["host"] == f"hooks.rebind.test:{receiver.port}"
    assert lookups == ["hooks.rebind.test"]


@pytest.mark.usefixtures("local")
def test_a_redirect_is_not_followed(version: Any, owner: Any, django_capture_on_commit_callbacks: Any) -> None:
    with receiving() as elsewhere, receiving(*[Answer(302, headers={"Location": elsewhere.url})] * 3) as receiver:
        webhook, _ = hook(owner, version.model, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Follow me")
        run_tasks(wait_for_deferred=3)
    assert len(receiver.received) == 3
    assert elsewhere.received == []
    [delivery] = Delivery.objects.filter(webhook=webhook)
    assert (delivery.status, delivery.status_code) == (DeliveryStatus.FAILED, 302)
    assert delivery.error == "The receiver answered 302 (redirects are not followed)."


@pytest.mark.usefixtures("local")
def test_a_huge_answer_is_read_only_up_to_the_cap(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving(Answer(200, body=b"y" * 2_000_000)) as receiver:
        webhook, _ = hook(owner, version.model, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Tell me everything")
        run_tasks()
    [delivery] = Delivery.objects.filter(webhook=webhook)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.response_excerpt == "y" * RESPONSE_EXCERPT
