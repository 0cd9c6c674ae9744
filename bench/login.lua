-- wrk: POST /api/auth/login with BENCH_EMAIL / BENCH_PASSWORD (a right password unless told).
local email = os.getenv("BENCH_EMAIL") or "bench@example.com"
local password = os.getenv("BENCH_PASSWORD") or "correct horse battery staple"
wrk.method = "POST"
wrk.path = "/api/auth/login"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email":"%s","password":"%s"}', email, password)
