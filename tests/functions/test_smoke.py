def test_signup_login_profile(api):
    user, token = api.user_with_token("ada@example.com")
    r = api.get(f"/users/{user['id']}", token=token)
    assert r.status == 200, r.body
    assert r.body == user
    r = api.post(f"/users/{user['id']}/todos", token=token, json_body={"title": "write tests"})
    assert r.status == 201, r.body
    r = api.get(f"/users/{user['id']}/todos", token=token)
    assert r.status == 200 and len(r.body["items"]) == 1, r.body
