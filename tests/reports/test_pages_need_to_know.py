"""Need-to-know through the pages equals the API's, role by role: a page opens exactly for the
roles whose API calls behind it answer, and shows nothing the API would not."""

import pytest

from ancillary.auth.models import Role

ROLES = [r.value for r in Role]
# page -> the API call whose data it shows (same period, same reader)
PAIRS = {
    "/dashboard?from=2027-01-04&to=2027-01-10": "/api/v1/reports/dashboard?from=2027-01-04&to=2027-01-10",
    "/custody": "/api/v1/custody/verify",
}
# pages narrower than their API (the API serves other clients too): the page's roles are a subset
NARROWER = {"/schedule": "/api/v1/hearings?limit=1", "/hearings": "/api/v1/hearings?limit=1"}


@pytest.mark.parametrize("role", ROLES)
def test_pages_open_for_the_roles_the_api_answers(person, web, role):
    user = person(role)
    browser = web()
    browser.sign_in(user.username)
    for page, api in PAIRS.items():
        assert (browser.get(page).status_code == 200) == (user.get(api).status_code == 200), (role, page)
    for page, api in NARROWER.items():
        if browser.get(page).status_code == 200:
            assert user.get(api).status_code == 200, (role, page)
