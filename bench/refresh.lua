-- wrk: each thread (run with -t N -c N: one connection per thread) follows its own chain of
-- single-use refresh tokens, starting from one line of BENCH_TOKENS (a file, one token a line).
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  tokens[#tokens + 1] = line
end
local next_token = 0

function setup(thread)
  next_token = next_token + 1
  thread:set("token", tokens[next_token])
end

function request()
  return wrk.format("POST", "/api/auth/refresh", { ["Content-Type"] = "application/json" },
    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  if status == 200 then
    token = body:match('"refresh_token":"([^"]+)"')
  else
    broken = (broken or 0) + 1
  end
end
