"""People methods of the emulator, driven through the real google-api-python-client."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from atarys.emulator.server import RunningEmulator
from fixtures.emulator import error_reason, google_error

FIELDS = "names,emailAddresses,phoneNumbers,addresses,organizations,biographies,clientData,memberships,metadata,userDefined,externalIds"


def create(service: Any, **person: Any) -> dict[str, Any]:
    result: dict[str, Any] = (
        service.people().createContact(body=person, personFields=FIELDS).execute()
    )
    return result


def jean(service: Any) -> dict[str, Any]:
    return create(
        service,
        names=[{"givenName": "Jean", "familyName": "Dupont"}],
        emailAddresses=[{"value": "jean@example.fr", "type": "home"}, {"value": "jd@work.fr"}],
        phoneNumbers=[{"value": "06 12 34 56 78", "type": "mobile"}],
    )


def test_create_returns_person_with_resource_name_and_etag(people_service: Any) -> None:
    """A created contact has a ``people/c<digits>`` name, an etag and the values sent."""
    person = jean(people_service)
    assert person["resourceName"].startswith("people/c")
    assert person["resourceName"][len("people/c") :].isdigit()
    assert person["etag"]
    assert [e["value"] for e in person["emailAddresses"]] == ["jean@example.fr", "jd@work.fr"]


def test_create_adds_output_only_fields(people_service: Any) -> None:
    """displayName, formattedType and canonicalForm (E.164) are computed by the server."""
    person = jean(people_service)
    assert person["names"][0]["displayName"] == "Jean Dupont"
    assert person["names"][0]["displayNameLastFirst"] == "Dupont, Jean"
    assert person["emailAddresses"][0]["formattedType"] == "Home"
    assert person["phoneNumbers"][0]["canonicalForm"] == "+33612345678"
    assert person["phoneNumbers"][0]["value"] == "06 12 34 56 78"


def test_exactly_one_primary_entry_per_field(people_service: Any) -> None:
    """FieldMetadata.primary is true on exactly one entry of each non-empty field."""
    person = jean(people_service)
    for name in ("names", "emailAddresses", "phoneNumbers"):
        primaries = [e for e in person[name] if e["metadata"].get("primary")]
        assert len(primaries) == 1, name


def test_created_contact_joins_my_contacts(people_service: Any) -> None:
    """A new contact is a member of contactGroups/myContacts."""
    person = jean(people_service)
    groups = [
        m["contactGroupMembership"]["contactGroupResourceName"] for m in person["memberships"]
    ]
    assert groups == ["contactGroups/myContacts"]


def test_metadata_sources_carry_contact_etag_and_update_time(people_service: Any) -> None:
    """metadata.sources[0] is {type: CONTACT, id, etag, updateTime}."""
    source = jean(people_service)["metadata"]["sources"][0]
    assert source["type"] == "CONTACT"
    assert set(source) >= {"id", "etag", "updateTime"}
    assert source["updateTime"].endswith("Z")


def test_address_formatted_value_is_built_from_parts(people_service: Any) -> None:
    """An address without formattedValue gets one built from its parts."""
    person = create(
        people_service,
        addresses=[
            {
                "streetAddress": "3 rue Pasteur",
                "postalCode": "69003",
                "city": "Lyon",
                "country": "France",
            }
        ],
    )
    assert person["addresses"][0]["formattedValue"] == "3 rue Pasteur\n69003 Lyon\nFrance"


def test_address_formatted_value_sent_is_kept(people_service: Any) -> None:
    """An address's own formattedValue is kept as sent."""
    person = create(people_service, addresses=[{"formattedValue": "Chez moi", "city": "Lyon"}])
    assert person["addresses"][0]["formattedValue"] == "Chez moi"


def test_output_only_fields_are_ignored_on_write(people_service: Any) -> None:
    """Output-only keys sent by a client (canonicalForm, displayName, metadata) are not stored."""
    person = create(
        people_service,
        names=[{"givenName": "Luc", "displayName": "Faux Nom", "metadata": {"primary": False}}],
        phoneNumbers=[{"value": "01 23 45 67 89", "canonicalForm": "+4400000"}],
        metadata={"deleted": True},
    )
    assert person["names"][0]["displayName"] == "Luc"
    assert person["phoneNumbers"][0]["canonicalForm"] == "+33123456789"
    assert "deleted" not in person["metadata"]


def test_client_data_round_trips(people_service: Any) -> None:
    """clientData set on create comes back when personFields asks for it."""
    person = create(people_service, clientData=[{"key": "atarys_id", "value": "42"}])
    got = (
        people_service.people()
        .get(resourceName=person["resourceName"], personFields="clientData")
        .execute()
    )
    assert got["clientData"][0]["key"] == "atarys_id"
    assert got["clientData"][0]["value"] == "42"


def test_person_fields_mask_limits_the_answer(people_service: Any) -> None:
    """An answer holds only the fields asked for (plus resourceName and etag)."""
    person = jean(people_service)
    got = (
        people_service.people()
        .get(resourceName=person["resourceName"], personFields="names")
        .execute()
    )
    assert set(got) == {"resourceName", "etag", "names"}


def test_get_requires_person_fields(people_service: Any) -> None:
    """people.get without personFields answers 400 INVALID_ARGUMENT."""
    person = jean(people_service)
    with pytest.raises(HttpError) as caught:
        people_service.people().get(resourceName=person["resourceName"]).execute()
    assert caught.value.resp.status == 400
    assert google_error(caught.value)["status"] == "INVALID_ARGUMENT"


def test_unknown_person_field_is_rejected(people_service: Any) -> None:
    """A personFields path that does not exist answers 400."""
    with pytest.raises(HttpError) as caught:
        people_service.people().connections().list(
            resourceName="people/me", personFields="names,shoeSize"
        ).execute()
    assert caught.value.resp.status == 400


def test_get_unknown_person_is_404(people_service: Any) -> None:
    """people.get of an unknown contact answers 404 NOT_FOUND."""
    with pytest.raises(HttpError) as caught:
        people_service.people().get(resourceName="people/c123", personFields="names").execute()
    assert caught.value.resp.status == 404
    assert google_error(caught.value)["status"] == "NOT_FOUND"


def test_me_is_the_token_owner_profile(people_service: Any) -> None:
    """people/me returns the account's own e-mail (how the sync engine knows the account)."""
    me = (
        people_service.people()
        .get(resourceName="people/me", personFields="emailAddresses,names")
        .execute()
    )
    assert me["emailAddresses"][0]["value"] == "demo@example.com"
    assert me["names"][0]["displayName"]


def test_me_of_another_user(emulator: RunningEmulator) -> None:
    """Each token's people/me is its own user."""
    from google.oauth2.credentials import Credentials

    from atarys.google.client import build_people_service

    service = build_people_service(
        Credentials(token=emulator.issue_token("paul@example.org")), emulator.url
    )
    me = service.people().get(resourceName="people/me", personFields="emailAddresses").execute()
    assert me["emailAddresses"][0]["value"] == "paul@example.org"


def test_users_have_separate_contacts(people_service: Any, emulator: RunningEmulator) -> None:
    """A contact created by one user is invisible to another."""
    from google.oauth2.credentials import Credentials

    from atarys.google.client import build_people_service

    jean(people_service)
    other = build_people_service(
        Credentials(token=emulator.issue_token("paul@example.org")), emulator.url
    )
    answer = (
        other.people().connections().list(resourceName="people/me", personFields="names").execute()
    )
    assert "connections" not in answer


def test_update_replaces_listed_fields_whole(people_service: Any) -> None:
    """updatePersonFields=emailAddresses replaces the whole list; other fields stay."""
    person = jean(people_service)
    body = {"etag": person["etag"], "emailAddresses": [{"value": "nouveau@example.fr"}]}
    updated = (
        people_service.people()
        .updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="emailAddresses",
            body=body,
            personFields=FIELDS,
        )
        .execute()
    )
    assert [e["value"] for e in updated["emailAddresses"]] == ["nouveau@example.fr"]
    assert updated["phoneNumbers"][0]["value"] == "06 12 34 56 78"
    assert updated["etag"] != person["etag"]


def test_update_listed_field_absent_from_body_clears_it(people_service: Any) -> None:
    """A field in updatePersonFields but not in the body is cleared."""
    person = jean(people_service)
    updated = (
        people_service.people()
        .updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="phoneNumbers",
            body={"etag": person["etag"]},
            personFields=FIELDS,
        )
        .execute()
    )
    assert "phoneNumbers" not in updated
    assert updated["emailAddresses"]


def test_update_with_stale_etag_is_400_failed_precondition(people_service: Any) -> None:
    """An update with an old etag answers 400 FAILED_PRECONDITION with Google's message."""
    person = jean(people_service)
    people_service.people().updateContact(
        resourceName=person["resourceName"],
        updatePersonFields="names",
        body={"etag": person["etag"], "names": [{"givenName": "J"}]},
    ).execute()
    with pytest.raises(HttpError) as caught:
        people_service.people().updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="names",
            body={"etag": person["etag"], "names": [{"givenName": "K"}]},
        ).execute()
    error = google_error(caught.value)
    assert caught.value.resp.status == 400
    assert error["status"] == "FAILED_PRECONDITION"
    assert error["message"] == (
        "Request person.etag is different than the current person.etag. "
        "Clear local cache and get the latest person."
    )


def test_update_accepts_source_etag(people_service: Any) -> None:
    """metadata.sources[].etag is accepted in place of person.etag."""
    person = jean(people_service)
    body = {
        "metadata": {"sources": person["metadata"]["sources"]},
        "names": [{"givenName": "Jeannot"}],
    }
    updated = (
        people_service.people()
        .updateContact(resourceName=person["resourceName"], updatePersonFields="names", body=body)
        .execute()
    )
    assert updated["names"][0]["givenName"] == "Jeannot"


def test_update_without_etag_is_400(people_service: Any) -> None:
    """An update carrying no etag at all answers 400."""
    person = jean(people_service)
    with pytest.raises(HttpError) as caught:
        people_service.people().updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="names",
            body={"names": [{"givenName": "X"}]},
        ).execute()
    assert caught.value.resp.status == 400


def test_update_requires_update_person_fields(people_service: Any) -> None:
    """updateContact without updatePersonFields answers 400."""
    person = jean(people_service)
    with pytest.raises(HttpError) as caught:
        people_service.people().updateContact(
            resourceName=person["resourceName"], body={"etag": person["etag"]}
        ).execute()
    assert caught.value.resp.status == 400


def test_singleton_field_refuses_two_values(people_service: Any) -> None:
    """Creating a contact with two names answers 400 INVALID_ARGUMENT."""
    with pytest.raises(HttpError) as caught:
        create(people_service, names=[{"givenName": "A"}, {"givenName": "B"}])
    assert caught.value.resp.status == 400
    assert google_error(caught.value)["status"] == "INVALID_ARGUMENT"


def test_unknown_json_field_is_rejected(people_service: Any) -> None:
    """A Person key unknown to Google's schema answers 400 like Google's JSON parser."""
    with pytest.raises(HttpError) as caught:
        create(people_service, names=[{"givenName": "A", "nickname": "x"}])
    assert caught.value.resp.status == 400


def test_delete_then_get_is_404(people_service: Any) -> None:
    """deleteContact answers {} and the contact is gone."""
    person = jean(people_service)
    assert (
        people_service.people().deleteContact(resourceName=person["resourceName"]).execute() == {}
    )
    with pytest.raises(HttpError) as caught:
        people_service.people().get(
            resourceName=person["resourceName"], personFields="names"
        ).execute()
    assert caught.value.resp.status == 404


def test_delete_unknown_is_404(people_service: Any) -> None:
    """deleteContact of an unknown contact answers 404 NOT_FOUND."""
    with pytest.raises(HttpError) as caught:
        people_service.people().deleteContact(resourceName="people/c999").execute()
    assert caught.value.resp.status == 404


def test_batch_get_reports_each_name(people_service: Any) -> None:
    """getBatchGet answers one response per name, with a 404 status for unknown ones."""
    person = jean(people_service)
    answer = (
        people_service.people()
        .getBatchGet(resourceNames=[person["resourceName"], "people/c1"], personFields="names")
        .execute()
    )
    first, second = answer["responses"]
    assert first["requestedResourceName"] == person["resourceName"]
    assert first["person"]["names"][0]["givenName"] == "Jean"
    assert second["status"]["code"] == 5
    assert "person" not in second


def test_batch_get_cap_is_200(people_service: Any) -> None:
    """getBatchGet with 201 names answers 400."""
    names = [f"people/c{i}" for i in range(1, 202)]
    with pytest.raises(HttpError) as caught:
        people_service.people().getBatchGet(resourceNames=names, personFields="names").execute()
    assert caught.value.resp.status == 400


def test_batch_create_returns_created_people(people_service: Any) -> None:
    """batchCreateContacts answers createdPeople[].person in order."""
    body = {
        "contacts": [{"contactPerson": {"names": [{"givenName": f"P{i}"}]}} for i in range(3)],
        "readMask": "names",
    }
    answer = people_service.people().batchCreateContacts(body=body).execute()
    assert [p["person"]["names"][0]["givenName"] for p in answer["createdPeople"]] == [
        "P0",
        "P1",
        "P2",
    ]


def test_batch_create_cap_is_200(people_service: Any) -> None:
    """batchCreateContacts with 201 contacts answers 400 and creates nothing."""
    body = {
        "contacts": [{"contactPerson": {"names": [{"givenName": "x"}]}}] * 201,
        "readMask": "names",
    }
    with pytest.raises(HttpError) as caught:
        people_service.people().batchCreateContacts(body=body).execute()
    assert caught.value.resp.status == 400
    answer = (
        people_service.people()
        .connections()
        .list(resourceName="people/me", personFields="names")
        .execute()
    )
    assert "connections" not in answer


def test_batch_create_requires_read_mask(people_service: Any) -> None:
    """batchCreateContacts without readMask answers 400."""
    body = {"contacts": [{"contactPerson": {"names": [{"givenName": "x"}]}}]}
    with pytest.raises(HttpError) as caught:
        people_service.people().batchCreateContacts(body=body).execute()
    assert caught.value.resp.status == 400


def test_batch_update_applies_each(people_service: Any) -> None:
    """batchUpdateContacts answers updateResult keyed by resource name."""
    a, b = jean(people_service), jean(people_service)
    body = {
        "contacts": {
            a["resourceName"]: {"etag": a["etag"], "names": [{"givenName": "A"}]},
            b["resourceName"]: {"etag": b["etag"], "names": [{"givenName": "B"}]},
        },
        "updateMask": "names",
        "readMask": "names",
    }
    answer = people_service.people().batchUpdateContacts(body=body).execute()
    assert answer["updateResult"][a["resourceName"]]["person"]["names"][0]["givenName"] == "A"
    assert answer["updateResult"][b["resourceName"]]["person"]["names"][0]["givenName"] == "B"


def test_batch_update_cap_is_200(people_service: Any) -> None:
    """batchUpdateContacts with 201 contacts answers 400."""
    contacts = {f"people/c{i}": {"etag": "x"} for i in range(1, 202)}
    with pytest.raises(HttpError) as caught:
        people_service.people().batchUpdateContacts(
            body={"contacts": contacts, "updateMask": "names", "readMask": "names"}
        ).execute()
    assert caught.value.resp.status == 400


def test_batch_delete_removes_all(people_service: Any) -> None:
    """batchDeleteContacts answers {} and the contacts are gone."""
    names = [jean(people_service)["resourceName"] for _ in range(3)]
    assert (
        people_service.people().batchDeleteContacts(body={"resourceNames": names}).execute() == {}
    )
    answer = (
        people_service.people()
        .connections()
        .list(resourceName="people/me", personFields="names")
        .execute()
    )
    assert "connections" not in answer


def test_batch_delete_cap_is_500(people_service: Any) -> None:
    """batchDeleteContacts with 501 names answers 400."""
    names = [f"people/c{i}" for i in range(1, 502)]
    with pytest.raises(HttpError) as caught:
        people_service.people().batchDeleteContacts(body={"resourceNames": names}).execute()
    assert caught.value.resp.status == 400


def test_search_matches_name_prefix(people_service: Any) -> None:
    """searchContacts finds a contact by a prefix of its family name."""
    jean(people_service)
    create(people_service, names=[{"givenName": "Marie", "familyName": "Curie"}])
    answer = people_service.people().searchContacts(query="dup", readMask="names").execute()
    assert [r["person"]["names"][0]["familyName"] for r in answer["results"]] == ["Dupont"]


def test_search_empty_query_warm_up_is_empty(people_service: Any) -> None:
    """The warm-up search with an empty query answers {}."""
    jean(people_service)
    assert people_service.people().searchContacts(query="", readMask="names").execute() == {}


def test_contact_limit_is_25000(people_service: Any, emulator: RunningEmulator) -> None:
    """An account holds at most 25,000 contacts: one more answers 400 and is not created."""
    with emulator.state.lock:
        emulator.state.create_contacts("demo@example.com", [({}, None) for _ in range(24_999)])
    jean(people_service)
    with pytest.raises(HttpError) as caught:
        jean(people_service)
    assert caught.value.resp.status == 400
    assert error_reason(caught.value) == "CONTACT_LIMIT_EXCEEDED"
    assert emulator.state.user("demo@example.com").live_count == 25_000


def test_error_body_has_google_shape(people_service: Any, emulator: RunningEmulator) -> None:
    """An error answer is {"error": {code, message, status, details: [ErrorInfo]}}."""
    listing = (
        people_service.people()
        .connections()
        .list(resourceName="people/me", personFields="names", requestSyncToken=True)
    )
    token = listing.execute()["nextSyncToken"]
    emulator.expire_sync_tokens()
    with pytest.raises(HttpError) as caught:
        people_service.people().connections().list(
            resourceName="people/me", personFields="names", syncToken=token
        ).execute()
    error = google_error(caught.value)
    assert set(error) == {"code", "message", "status", "details"}
    assert error["code"] == 400
    detail = error["details"][0]
    assert detail["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert detail["reason"] == "EXPIRED_SYNC_TOKEN"
    assert detail["metadata"]["service"] == "people.googleapis.com"


def test_not_found_error_body(people_service: Any) -> None:
    """A 404 body carries code 404, status NOT_FOUND and a message."""
    with pytest.raises(HttpError) as caught:
        people_service.people().updateContact(
            resourceName="people/c42", updatePersonFields="names", body={"etag": "x"}
        ).execute()
    error = google_error(caught.value)
    assert (error["code"], error["status"]) == (404, "NOT_FOUND")
    assert error["message"]


def test_search_page_size_cap_is_30(people_service: Any) -> None:
    """searchContacts with pageSize 31 answers 400."""
    with pytest.raises(HttpError) as caught:
        people_service.people().searchContacts(query="a", readMask="names", pageSize=31).execute()
    assert caught.value.resp.status == 400


def test_list_shows_at_most_100_emails_get_shows_all(people_service: Any) -> None:
    """connections.list holds at most 100 e-mails per person; people.get holds them all."""
    emails = [{"value": f"adresse{i}@example.fr"} for i in range(101)]
    person = create(people_service, emailAddresses=emails)
    listed = (
        people_service.people()
        .connections()
        .list(resourceName="people/me", personFields="emailAddresses")
        .execute()
    )
    assert len(listed["connections"][0]["emailAddresses"]) == 100
    got = (
        people_service.people()
        .get(resourceName=person["resourceName"], personFields="emailAddresses")
        .execute()
    )
    assert len(got["emailAddresses"]) == 101


def test_field_longer_than_1024_characters_is_400(people_service: Any) -> None:
    """A field value over 1,024 characters answers 400."""
    with pytest.raises(HttpError) as caught:
        create(people_service, names=[{"givenName": "x" * 1025}])
    assert caught.value.resp.status == 400


def test_request_mask_include_field_stands_in_for_person_fields(people_service: Any) -> None:
    """The deprecated requestMask.includeField is accepted when personFields is absent."""
    person = jean(people_service)
    got = (
        people_service.people()
        .get(resourceName=person["resourceName"], requestMask_includeField="person.names")
        .execute()
    )
    assert set(got) == {"resourceName", "etag", "names"}


def test_accented_names_go_out_whole_in_a_batch(people_service: Any) -> None:
    """Names with accents and emoji reach Google in one batch and come back the same
    (the client's JSON body is UTF-8 bytes: a text body went out as Latin-1)."""
    names = ["Zoé Lefèvre", "Œdipe Ñúñez", "Chloé 🏗️ Gérard"]
    body = {
        "contacts": [
            {"contactPerson": {"names": [{"givenName": g, "familyName": f}]}}
            for g, f in (n.rsplit(" ", 1) for n in names)
        ],
        "readMask": "names",
    }
    created = people_service.people().batchCreateContacts(body=body).execute()
    got = [
        f"{p['person']['names'][0]['givenName']} {p['person']['names'][0]['familyName']}"
        for p in created["createdPeople"]
    ]
    assert got == names
