// The HTTP client: see app.js.
