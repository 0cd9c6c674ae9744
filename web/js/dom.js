// Small DOM helpers.
