"""What goes wrong, as the browser shows it: the server's own message for a wrong password, and
a page from an origin the services do not allow that cannot use either API."""

from playwright.sync_api import expect

from conftest import PASSWORD, api_login, api_register, goto_app, http, new_email, wait_ready


def test_a_wrong_password_shows_the_servers_message(stack, open_page):
    email = new_email("wrong")
    api_register(stack, email)
    page, _ = open_page()
    goto_app(page, stack)
    form = page.locator("#login-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill("not the password at all")
    with page.expect_response(lambda r: r.url.endswith("/api/auth/login")) as answer:
        form.get_by_role("button", name="Log in", exact=True).click()
    response = answer.value
    assert response.status == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert detail
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(detail)  # the server's words, as they came
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.locator("#login-password")).to_be_focused()  # ready for another try

    # A second try with the right password clears the message and logs in.
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator("#who-email")).to_have_text(email)
    expect(alert).to_be_empty()


def test_validation_errors_name_their_fields(stack, open_page):
    page, _ = open_page()
    goto_app(page, stack)
    page.get_by_role("button", name="Create an account").click()
    form = page.locator("#register-form")
    email = new_email("weak")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill("password")  # long enough for the browser, too common for the server
    with page.expect_response(lambda r: r.url.endswith("/api/auth/register")) as answer:
        form.get_by_role("button", name="Create account").click()
    problem = answer.value.json()
    assert answer.value.status == 422
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(problem["detail"])
    for error in problem["errors"]:
        expect(alert).to_contain_text(error["message"])
    expect(form.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Password")).to_be_focused()


def test_a_page_from_an_origin_not_allowed_cannot_call_the_apis(stack, third_origin, open_page):
    email = new_email("cors")
    api_register(stack, email)
    token = api_login(stack, email)["access_token"]

    page, watch = open_page()
    page.goto(f"{third_origin}/")
    wait_ready(page)

    # The same client, served from elsewhere: logging in with the right password fails, because
    # the browser withholds the auth-service's answer from this origin.
    form = page.locator("#login-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("could not reach")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    blocked = [r for r in watch.failed if r.url.startswith(stack.auth_url)]
    assert blocked, "no request to the auth-service failed"
    assert any("CORS policy" in m for m in watch.console), watch.console

    # The todo-service likewise: a valid token, a request the browser refuses to expose.
    outcome = page.evaluate(
        """async ([url, token]) => {
            try {
                const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
                return `answered ${res.status}`;
            } catch (error) {
                return `blocked: ${error.name}`;
            }
        }""",
        [f"{stack.todo_url}/api/todos", token],
    )
    assert outcome == "blocked: TypeError"
    # Outside a browser the same request with the same token works: the browser's CORS check
    # is what stopped the page.
    status, _, _ = http("GET", f"{stack.todo_url}/api/todos", token=token)
    assert status == 200
    # The auth-service's CORS answer names no allowed origin for this one (but does for the
    # client's own).
    _, headers, _ = http("GET", f"{stack.auth_url}/.well-known/jwks.json", origin=third_origin)
    assert headers.get("Access-Control-Allow-Origin") is None
    status, headers, _ = http("GET", f"{stack.auth_url}/.well-known/jwks.json", origin=stack.todo_url)
    assert headers.get("Access-Control-Allow-Origin") == stack.todo_url
