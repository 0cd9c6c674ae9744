"""A user's whole day in the browser: register, log in, add, complete, filter, edit, delete, page
through, log out, and the old token refused afterwards."""

from playwright.sync_api import expect

from conftest import (
    PASSWORD,
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


def titles(page):
    return page.locator("#todo-list .todo-title").all_inner_texts()


def filter_by(page, name):
    """Clicks a filter choice as a person does: on its label."""
    page.locator("#panel-todos .segmented").get_by_text(name, exact=True).click()


def test_register_login_add_complete_filter_edit_delete_logout(stack, open_page, artifacts):
    page, watch = open_page()
    goto_app(page, stack)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    # Register.
    email = new_email("flow")
    page.get_by_role("button", name="Create an account").click()
    form = page.locator("#register-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_label("First name").fill("Ada")
    form.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text(f"Account created for {email}")
    expect(page.locator("#login-email")).to_have_value(email)

    # Log in.
    ui_login(page, email, PASSWORD)
    expect(page.locator("#who-email")).to_have_text(email)
    expect(page.locator("#tabs")).to_be_hidden()  # not an admin
    expect(page.locator("#todo-empty")).to_contain_text("No todos yet")
    expect(page.locator("#add-title")).to_be_focused()

    # Add three todos.
    for title, notes in [("Buy milk", ""), ("Write report", "Quarterly numbers, two pages"), ("Call Sam", "")]:
        page.get_by_label("New todo").fill(title)
        page.get_by_label("Notes").fill(notes)
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.get_by_role("status")).to_have_text(f"Added “{title}”.")
    expect(page.locator("#todo-list > li")).to_have_count(3)
    assert titles(page) == ["Call Sam", "Write report", "Buy milk"]  # newest first
    expect(page.locator("#todo-summary")).to_have_text("3 todos")
    expect(page.locator("#todo-list")).to_contain_text("Quarterly numbers, two pages")

    # Complete one.
    page.get_by_role("checkbox", name="Write report").check()
    expect(page.get_by_role("status")).to_have_text("Completed “Write report”.")
    expect(page.locator("li.todo.is-done .todo-title")).to_have_text(["Write report"])
    shot(page, artifacts, "flow-todos")

    # Filter.
    filter_by(page, "Completed")
    expect(page.locator("#todo-list .todo-title")).to_have_text(["Write report"])
    expect(page.locator("#todo-summary")).to_have_text("1 completed todo")
    filter_by(page, "Open")
    expect(page.locator("#todo-list .todo-title")).to_have_text(["Call Sam", "Buy milk"])
    expect(page.locator("#todo-summary")).to_have_text("2 open todos")
    filter_by(page, "All")
    expect(page.locator("#todo-list > li")).to_have_count(3)

    # Edit.
    page.get_by_role("button", name="Edit “Buy milk”").click()
    edit = page.get_by_role("form", name="Edit “Buy milk”")
    expect(edit.get_by_label("Title")).to_be_focused()
    edit.get_by_label("Title").fill("Buy oat milk")
    edit.get_by_label("Notes").fill("The barista kind")
    edit.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved “Buy oat milk”.")
    expect(page.locator("#todo-list .todo-title")).to_have_text(["Call Sam", "Write report", "Buy oat milk"])
    expect(page.get_by_role("button", name="Edit “Buy oat milk”")).to_be_focused()

    # Delete (the confirm() dialog is accepted).
    page.get_by_role("button", name="Delete “Call Sam”").click()
    expect(page.get_by_role("status")).to_have_text("Deleted “Call Sam”.")
    expect(page.locator("#todo-list .todo-title")).to_have_text(["Write report", "Buy oat milk"])
    wait_idle(page)

    # What the page shows is what the server holds.
    token = watch.bearer_tokens()[-1]
    status, _, listing = http("GET", f"{stack.todo_url}/api/todos", token=token)
    assert status == 200
    held = {t["title"]: (t["completed"], t["description"]) for t in listing["todos"]}
    assert held == {"Write report": (True, "Quarterly numbers, two pages"), "Buy oat milk": (False, "The barista kind")}
    # The todo API was called same-origin, the auth API cross-origin, with the bearer token.
    todo_calls = [r for r in watch.requests if r.url.startswith(f"{stack.todo_url}/api/")]
    assert todo_calls and all(r.headers.get("authorization", "").startswith("Bearer ") for r in todo_calls)

    # Log out: the login form is back, nothing of the user is left on the page.
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Logged out.")
    expect(page.locator("#account")).to_be_hidden()
    expect(page.locator("#todo-list > li")).to_have_count(0)
    assert watch.count("POST", "/api/auth/logout") == 1

    # The access token the page used is refused by the auth-service: its session has ended.
    status, headers, problem = http("GET", f"{stack.auth_url}/api/auth/profile", token=token)
    assert status == 401, problem
    assert 'error="invalid_token"' in headers.get("WWW-Authenticate", "")


def test_pages_of_todos(stack, open_page):
    email = new_email("pages")
    api_register(stack, email)
    token = api_login(stack, email)["access_token"]
    for n in range(1, 13):
        api_add_todo(stack, token, f"Task {n:02}", completed=n % 4 == 0)

    page, _ = open_page()
    goto_app(page, stack)
    ui_login(page, email, PASSWORD)
    expect(page.locator("#todo-list > li")).to_have_count(10)  # 10 per page by default
    expect(page.locator("#todo-page-info")).to_have_text("Page 1 of 2")

    page.get_by_label("Per page").select_option("5")
    expect(page.locator("#todo-page-info")).to_have_text("Page 1 of 3")
    expect(page.locator("#todo-list .todo-title")).to_have_text([f"Task {n:02}" for n in (12, 11, 10, 9, 8)])
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#todo-page-info")).to_have_text("Page 2 of 3")
    expect(page.locator("#todo-list .todo-title")).to_have_text([f"Task {n:02}" for n in (7, 6, 5, 4, 3)])
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#todo-list .todo-title")).to_have_text(["Task 02", "Task 01"])
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    expect(page.get_by_role("button", name="Previous")).to_be_focused()  # focus not lost

    # The filter applies to the pages: 3 completed todos fit on one.
    filter_by(page, "Completed")
    expect(page.locator("#todo-list .todo-title")).to_have_text(["Task 12", "Task 08", "Task 04"])
    expect(page.locator("#todo-pager")).to_be_hidden()

    # Deleting the last todo of the last page shows the page before it.
    filter_by(page, "All")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#todo-page-info")).to_have_text("Page 3 of 3")
    page.get_by_role("button", name="Delete “Task 02”").click()
    expect(page.locator("#todo-list .todo-title")).to_have_text(["Task 01"])
    page.get_by_role("button", name="Delete “Task 01”").click()
    expect(page.locator("#todo-page-info")).to_have_text("Page 2 of 2")
    expect(page.locator("#todo-list > li")).to_have_count(5)


def test_keyboard_only(stack, open_page):
    """Log in, add, complete, start and cancel an edit with the keyboard alone; the focused
    control is visibly outlined."""
    email = new_email("keys")
    api_register(stack, email)
    page, _ = open_page()
    goto_app(page, stack)

    expect(page.locator("#login-email")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.locator("#login-password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#add-title")).to_be_focused()

    page.keyboard.type("Water the plants")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Added “Water the plants”.")
    expect(page.locator("#add-title")).to_be_focused()

    checkbox = page.get_by_role("checkbox", name="Water the plants")
    for _ in range(15):
        if checkbox.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(checkbox).to_be_focused()
    outline = checkbox.evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
    assert not outline.startswith("none") and not outline.endswith(" 0px"), outline
    page.keyboard.press("Space")
    expect(page.get_by_role("status")).to_have_text("Completed “Water the plants”.")
    expect(checkbox).to_be_checked()
    expect(checkbox).to_be_focused()

    page.keyboard.press("Tab")
    edit_button = page.get_by_role("button", name="Edit “Water the plants”")
    expect(edit_button).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("form", name="Edit “Water the plants”").get_by_label("Title")).to_be_focused()
    page.keyboard.type("Never mind")
    page.keyboard.press("Escape")
    expect(page.locator("#todo-list .todo-title")).to_have_text(["Water the plants"])
    expect(edit_button).to_be_focused()
