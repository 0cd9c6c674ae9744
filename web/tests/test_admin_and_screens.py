"""The admin's view, how the client is served, and the main screens at a laptop's and a phone's
size (screenshots written to the artifacts directory)."""

import pytest
from playwright.sync_api import expect

from conftest import (
    PASSWORD,
    VIEWPORTS,
    api_add_todo,
    api_login,
    api_register,
    goto_app,
    http,
    new_email,
    shot,
    ui_login,
    wait_idle,
)


def test_an_admin_sees_the_reports_and_the_user_list(stack, open_page):
    email = new_email("reported")
    api_register(stack, email, first_name="Grace", last_name="Hopper")
    token = api_login(stack, email)["access_token"]
    api_add_todo(stack, token, "Counted", completed=True)
    api_add_todo(stack, token, "Counted too")

    page, _ = open_page()
    goto_app(page, stack)
    ui_login(page, stack.admin_email, stack.admin_password)
    expect(page.locator("#who-role")).to_be_visible()
    page.get_by_role("button", name="Admin").click()
    expect(page.get_by_role("button", name="Admin")).to_have_attribute("aria-current", "page")
    users = page.locator("#users-table tbody")
    expect(users).to_contain_text(email)
    expect(users).to_contain_text("Grace Hopper")
    expect(users).to_contain_text(stack.admin_email)
    wait_idle(page)

    # The figures are the server's, as an admin's API call sees them.
    admin_token = api_login(stack, stack.admin_email, stack.admin_password)["access_token"]
    _, _, report = http("GET", f"{stack.todo_url}/api/admin/reports", token=admin_token)
    totals = page.locator("#report-totals")
    expect(totals.locator(".stat dd")).to_have_text([str(report["users"]), str(report["todos"]), str(report["completed"])])
    row = page.locator("#report-table tbody tr", has_text=email)
    expect(row.locator("td")).to_have_text([email, "2", "1"])
    _, _, listing = http("GET", f"{stack.auth_url}/api/admin/users?per_page=20", token=admin_token)
    expect(page.locator("#users-caption")).to_have_text(f"{listing['pagination']['total']} accounts")

    # And back to their own todos.
    page.get_by_role("button", name="My todos").click()
    expect(page.get_by_role("heading", name="My todos")).to_be_visible()


def test_a_plain_user_has_no_admin_tab(stack, open_page):
    email = new_email("plain")
    api_register(stack, email)
    page, _ = open_page()
    goto_app(page, stack)
    ui_login(page, email, PASSWORD)
    expect(page.get_by_role("button", name="Admin")).to_have_count(0)


def test_the_client_is_served_with_a_strict_policy(stack):
    status, headers, _ = http("GET", f"{stack.todo_url}/app/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert f"connect-src 'self' {stack.auth_url};" in csp
    assert "script-src 'self';" in csp and "unsafe" not in csp
    assert "frame-ancestors 'none'" in csp
    status, _, config = http("GET", f"{stack.todo_url}/app/config.json")
    assert status == 200 and config == {"auth_url": stack.auth_url}
    status, headers, _ = http("GET", f"{stack.todo_url}/app/js/api.js")
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    status, _, problem = http("GET", f"{stack.todo_url}/app/nothing-here.js")
    assert status == 404 and problem["status"] == 404


def test_app_without_slash_redirects(stack, open_page):
    page, _ = open_page()
    page.goto(f"{stack.todo_url}/app")
    assert page.url == f"{stack.todo_url}/app/"


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_main_screens(stack, open_page, artifacts, size):
    """Login, an error, the todo list, an edit and the admin panel at `size`; readable without
    sideways scrolling."""
    viewport = VIEWPORTS[size]
    # Plain names for the pictures (each run has fresh databases).
    email = {"1280x800": "ada@example.com", "390x844": "grace@example.com"}[size]
    api_register(stack, email, first_name="Ada")
    token = api_login(stack, email)["access_token"]
    for title, description, completed in [
        ("Renew passport", "Photos are in the top drawer", False),
        ("Book dentist appointment", "", True),
        ("Plan the team offsite", "Budget, venue, agenda. Ask Lin about dates in March.", False),
        ("Pay electricity bill", "", True),
        ("Buy birthday present for Sam", "", False),
    ]:
        api_add_todo(stack, token, title, description=description, completed=completed)

    page, _ = open_page(viewport)

    def no_sideways_scroll():
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{size}: the page is {overflow}px wider than the screen"

    goto_app(page, stack)
    no_sideways_scroll()
    shot(page, artifacts, "login")

    form = page.locator("#login-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill("wrong password, sorry")
    form.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("alert")).not_to_be_empty()
    shot(page, artifacts, "login-error")

    page.get_by_role("button", name="Create an account").click()
    no_sideways_scroll()
    shot(page, artifacts, "register")
    page.get_by_role("button", name="Log in", exact=True).click()

    ui_login(page, email, PASSWORD)
    expect(page.locator("#todo-list > li")).to_have_count(5)
    page.mouse.move(0, 0)
    no_sideways_scroll()
    shot(page, artifacts, "todos")

    page.get_by_role("button", name="Edit “Plan the team offsite”").click()
    no_sideways_scroll()
    shot(page, artifacts, "todo-edit")
    page.keyboard.press("Escape")

    page.locator("#panel-todos .segmented").get_by_text("Completed", exact=True).click()
    expect(page.locator("#todo-list > li")).to_have_count(2)
    page.locator("#panel-todos .segmented").get_by_text("All", exact=True).click()

    page.get_by_role("button", name="Log out", exact=True).click()
    empty_user = new_email("empty")
    api_register(stack, empty_user)
    ui_login(page, empty_user, PASSWORD)
    expect(page.locator("#todo-empty")).to_be_visible()
    shot(page, artifacts, "todos-empty")
    page.get_by_role("button", name="Log out", exact=True).click()

    ui_login(page, stack.admin_email, stack.admin_password)
    page.get_by_role("button", name="Admin").click()
    expect(page.locator("#users-table tbody")).to_contain_text(email)
    wait_idle(page)
    no_sideways_scroll()
    shot(page, artifacts, "admin")
