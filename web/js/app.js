// The page: log in or register, then the user's todos (add, complete, edit, delete, filter,
// pages) and, for admins, the reports and the user list. Every error shows the server's
// problem+json `detail` in the alert region; every success is announced in the status region.

import * as api from './api.js';
import { byId, h, plural, show, timeEl } from './dom.js';

const views = ['loading', 'login', 'register', 'app'];

const state = {
  page: 1,
  perPage: 10,
  /** 'all' | 'open' | 'done' */
  filter: 'all',
  /** Ids of todos being edited (their item shows a form). */
  editing: new Set(),
  usersPage: 1,
  usersPerPage: 20,
  /** Incremented per list request, so a late answer cannot overwrite a newer one. */
  listSeq: 0,
  adminSeq: 0,
};

// --- messages -----------------------------------------------------------------------------

const errorBox = byId('error');
const statusBox = byId('status');

/** Shows an error (an ApiError's detail and field errors, or any message) in the alert region. */
function showError(error, form = null) {
  statusBox.replaceChildren();
  const message = typeof error === 'string' ? error : error?.message || 'something went wrong';
  const children = [h('p', {}, message)];
  const fields = error?.fieldErrors ?? [];
  if (fields.length) {
    children.push(h('ul', {}, fields.map((f) => h('li', {}, `${f.field}: ${f.message}`))));
  }
  if (error?.retryAfter && !/retry after/i.test(message)) {
    children.push(h('p', {}, `Try again in ${error.retryAfter} seconds.`));
  }
  errorBox.replaceChildren(...children);
  if (form) markInvalid(form, fields);
}

function clearError() {
  errorBox.replaceChildren();
  for (const el of document.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
}

/** Marks the inputs a 422 names and puts the focus on the first. */
function markInvalid(form, fields) {
  let first = null;
  for (const { field } of fields) {
    const input = form.elements.namedItem(field);
    if (input instanceof HTMLElement) {
      input.setAttribute('aria-invalid', 'true');
      first ??= input;
    }
  }
  first?.focus();
}

function announce(message) {
  statusBox.replaceChildren(h('p', {}, message));
}

// --- views ----------------------------------------------------------------------------------

function showView(name) {
  for (const v of views) show(byId(`view-${v}`), v === name);
}

/** Disables a form's buttons while its request runs. */
async function busy(form, work) {
  form.setAttribute('aria-busy', 'true');
  const buttons = [...form.querySelectorAll('button')];
  for (const b of buttons) b.disabled = true;
  try {
    return await work();
  } finally {
    form.removeAttribute('aria-busy');
    for (const b of buttons) b.disabled = false;
  }
}

function toLoggedOut({ focus = true } = {}) {
  show(byId('account'), false);
  show(byId('tabs'), false);
  // Nothing of the last user stays in the page.
  byId('todo-list').replaceChildren();
  byId('todo-summary').replaceChildren();
  byId('report-totals').replaceChildren();
  byId('report-table').tBodies[0].replaceChildren();
  byId('users-table').tBodies[0].replaceChildren();
  state.editing.clear();
  showView('login');
  if (focus) byId('login-email').focus();
}

function enterApp(user) {
  byId('who-email').textContent = user.email;
  show(byId('who-role'), user.role === 'admin');
  show(byId('account'), true);
  show(byId('tabs'), user.role === 'admin');
  Object.assign(state, { page: 1, filter: 'all', usersPage: 1 });
  byId('filter-all').checked = true;
  showView('app');
  selectTab('todos');
  byId('add-title').focus();
}

function selectTab(name) {
  const admin = name === 'admin' && api.isAdmin();
  show(byId('panel-todos'), !admin);
  show(byId('panel-admin'), admin);
  byId('tab-todos').setAttribute('aria-current', admin ? 'false' : 'page');
  byId('tab-admin').setAttribute('aria-current', admin ? 'page' : 'false');
  if (admin) loadAdmin();
  else loadTodos();
}

// --- log in, register, log out --------------------------------------------------------------

async function onLogin(event) {
  event.preventDefault();
  clearError();
  const form = event.currentTarget;
  const email = form.elements.namedItem('email').value.trim();
  const password = form.elements.namedItem('password').value;
  await busy(form, async () => {
    try {
      const user = await api.login(email, password);
      form.reset();
      statusBox.replaceChildren();
      enterApp(user);
    } catch (error) {
      showError(error, form);
      byId('login-password').select();
      byId('login-password').focus();
    }
  });
}

async function onRegister(event) {
  event.preventDefault();
  clearError();
  const form = event.currentTarget;
  const value = (name) => form.elements.namedItem(name).value;
  const email = value('email').trim();
  await busy(form, async () => {
    try {
      await api.register({
        email,
        password: value('password'),
        first_name: value('first_name').trim(),
        last_name: value('last_name').trim(),
      });
      form.reset();
      showView('login');
      byId('login-email').value = email;
      byId('login-password').focus();
      announce(`Account created for ${email}. Log in to continue.`);
    } catch (error) {
      showError(error, form);
    }
  });
}

async function onLogout(everywhere) {
  clearError();
  const buttons = [byId('logout'), byId('logout-all')];
  for (const b of buttons) b.disabled = true;
  try {
    await api.logout({ everywhere });
    toLoggedOut();
    announce(everywhere ? 'Logged out on every device.' : 'Logged out.');
  } catch (error) {
    toLoggedOut();
    showError(`You are logged out on this page, but the server could not be told: ${error.message}`);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

// --- todos ----------------------------------------------------------------------------------

function completedParam() {
  if (state.filter === 'open') return false;
  if (state.filter === 'done') return true;
  return undefined;
}

/**
 * Reloads the current page of todos. `focus`: what to focus once drawn, `{id, part}` (part:
 * 'check' or 'edit') or `{index}` (the item now at that position, or the last one), falling back
 * to the new-todo field.
 */
async function loadTodos({ focus = null } = {}) {
  const seq = ++state.listSeq;
  try {
    const data = await api.listTodos({
      page: state.page,
      perPage: state.perPage,
      completed: completedParam(),
    });
    if (seq !== state.listSeq) return;
    const { pages } = data.pagination;
    if (data.todos.length === 0 && state.page > 1 && pages >= 1) {
      // The page emptied (the last todo on it was deleted or filtered away): show the last one.
      state.page = pages;
      await loadTodos({ focus });
      return;
    }
    renderTodos(data);
    if (focus) focusAfterRender(focus);
  } catch (error) {
    if (seq === state.listSeq && !(error instanceof api.SessionEnded)) showError(error);
  }
}

function renderTodos({ todos, pagination }) {
  const list = byId('todo-list');
  list.replaceChildren(...todos.map(todoItem));
  const { total, page, pages } = pagination;
  const kind = { all: '', open: 'open ', done: 'completed ' }[state.filter];
  byId('todo-summary').textContent = total === 0 ? '' : `${total} ${kind}${total === 1 ? 'todo' : 'todos'}`;
  const emptyText = {
    all: 'No todos yet. Add your first one above.',
    open: 'Nothing open: everything is done.',
    done: 'No completed todos yet.',
  }[state.filter];
  byId('todo-empty-text').textContent = emptyText;
  show(byId('todo-empty'), todos.length === 0);
  show(byId('todo-pager'), pages > 1);
  byId('todo-page-info').textContent = `Page ${page} of ${pages}`;
  byId('todo-prev').disabled = page <= 1;
  byId('todo-next').disabled = page >= pages;
}

function focusAfterRender(focus) {
  const items = [...byId('todo-list').children];
  let target = null;
  if (focus.id) {
    const item = items.find((li) => li.dataset.id === focus.id);
    if (item) target = item.querySelector(focus.part === 'edit' ? '[data-action="edit"]' : 'input[type="checkbox"]');
  }
  if (!target && focus.index !== undefined && items.length) {
    const item = items[Math.min(focus.index, items.length - 1)];
    target = item.querySelector('input[type="checkbox"]');
  }
  (target ?? byId('add-title')).focus();
}

function todoItem(todo) {
  if (state.editing.has(todo.id)) return editItem(todo);
  const checkId = `done-${todo.id}`;
  const edited = todo.updated_at !== todo.created_at;
  return h(
    'li',
    { class: todo.completed ? 'todo is-done' : 'todo', dataset: { id: todo.id } },
    h('input', {
      type: 'checkbox',
      id: checkId,
      class: 'todo-check',
      checked: todo.completed,
      onchange: (event) => onToggle(todo, event.currentTarget),
    }),
    h(
      'div',
      { class: 'todo-body' },
      h('label', { for: checkId, class: 'todo-title' }, todo.title),
      todo.description ? h('p', { class: 'todo-description' }, todo.description) : null,
      h(
        'p',
        { class: 'todo-meta' },
        todo.completed ? 'Completed · ' : '',
        'Added ',
        timeEl(todo.created_at),
        edited ? [' · edited ', timeEl(todo.updated_at)] : null,
      ),
    ),
    h(
      'div',
      { class: 'todo-actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small',
          dataset: { action: 'edit' },
          'aria-label': `Edit “${todo.title}”`,
          onclick: () => startEdit(todo),
        },
        'Edit',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small btn-danger',
          dataset: { action: 'delete' },
          'aria-label': `Delete “${todo.title}”`,
          onclick: (event) => onDelete(todo, event.currentTarget),
        },
        'Delete',
      ),
    ),
  );
}

function editItem(todo) {
  const titleId = `edit-title-${todo.id}`;
  const descriptionId = `edit-description-${todo.id}`;
  const cancel = () => {
    state.editing.delete(todo.id);
    form.closest('li').replaceWith(todoItem(todo));
    focusAfterRender({ id: todo.id, part: 'edit' });
  };
  const form = h(
    'form',
    {
      class: 'edit-form',
      'aria-label': `Edit “${todo.title}”`,
      onsubmit: (event) => onSaveEdit(event, todo),
      onkeydown: (event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          cancel();
        }
      },
    },
    h(
      'div',
      { class: 'field' },
      h('label', { for: titleId }, 'Title'),
      h('input', { id: titleId, name: 'title', type: 'text', maxlength: 255, required: true, value: todo.title }),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: descriptionId }, 'Notes ', h('span', { class: 'optional' }, '(optional)')),
      h('textarea', { id: descriptionId, name: 'description', rows: 3, maxlength: 10000 }, todo.description),
    ),
    h(
      'div',
      { class: 'edit-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Save'),
      h('button', { type: 'button', class: 'btn btn-small', onclick: cancel }, 'Cancel'),
    ),
  );
  return h('li', { class: 'todo is-editing', dataset: { id: todo.id } }, form);
}

function startEdit(todo) {
  clearError();
  state.editing.add(todo.id);
  const item = [...byId('todo-list').children].find((li) => li.dataset.id === todo.id);
  if (!item) return;
  item.replaceWith(todoItem(todo));
  const input = byId(`edit-title-${todo.id}`);
  input.focus();
  input.select();
}

async function onSaveEdit(event, todo) {
  event.preventDefault();
  clearError();
  const form = event.currentTarget;
  const title = form.elements.namedItem('title').value;
  const description = form.elements.namedItem('description').value;
  await busy(form, async () => {
    try {
      const saved = await api.updateTodo(todo.id, { title, description });
      state.editing.delete(todo.id);
      announce(`Saved “${saved.title}”.`);
      await loadTodos({ focus: { id: todo.id, part: 'edit' } });
    } catch (error) {
      if (!(error instanceof api.SessionEnded)) showError(error, form);
    }
  });
}

async function onToggle(todo, checkbox) {
  clearError();
  const completed = checkbox.checked;
  checkbox.disabled = true;
  const index = [...byId('todo-list').children].findIndex((li) => li.dataset.id === todo.id);
  try {
    const saved = await api.updateTodo(todo.id, { completed });
    announce(completed ? `Completed “${saved.title}”.` : `Reopened “${saved.title}”.`);
    await loadTodos({ focus: { id: todo.id, part: 'check', index } });
  } catch (error) {
    checkbox.checked = !completed;
    checkbox.disabled = false;
    if (!(error instanceof api.SessionEnded)) showError(error);
  }
}

async function onDelete(todo, button) {
  clearError();
  if (!window.confirm(`Delete “${todo.title}”? This cannot be undone.`)) return;
  button.disabled = true;
  const index = [...byId('todo-list').children].findIndex((li) => li.dataset.id === todo.id);
  try {
    await api.deleteTodo(todo.id);
    state.editing.delete(todo.id);
    announce(`Deleted “${todo.title}”.`);
    await loadTodos({ focus: { index } });
  } catch (error) {
    button.disabled = false;
    if (!(error instanceof api.SessionEnded)) showError(error);
  }
}

async function onAdd(event) {
  event.preventDefault();
  clearError();
  const form = event.currentTarget;
  const title = form.elements.namedItem('title').value;
  const description = form.elements.namedItem('description').value;
  await busy(form, async () => {
    try {
      const todo = await api.createTodo({ title, description });
      form.reset();
      announce(`Added “${todo.title}”.`);
      state.page = 1;
      await loadTodos();
    } catch (error) {
      if (!(error instanceof api.SessionEnded)) showError(error, form);
    }
  });
  byId('add-title').focus();
}

// --- admin ----------------------------------------------------------------------------------

async function loadAdmin() {
  const seq = ++state.adminSeq;
  const [report, users] = await Promise.allSettled([
    api.reports(),
    api.listUsers({ page: state.usersPage, perPage: state.usersPerPage }),
  ]);
  if (seq !== state.adminSeq) return;
  const failed = [report, users].find((r) => r.status === 'rejected');
  if (failed && !(failed.reason instanceof api.SessionEnded)) showError(failed.reason);
  const emails = new Map();
  if (users.status === 'fulfilled') {
    for (const u of users.value.users) emails.set(u.id, u.email);
    renderUsers(users.value);
  }
  if (report.status === 'fulfilled') renderReport(report.value, emails);
}

/** An email address that may wrap before its `@` on a narrow screen, and nowhere else. */
function emailText(email) {
  const at = email.lastIndexOf('@');
  return at > 0 ? [email.slice(0, at), h('wbr'), email.slice(at)] : [email];
}

function renderReport(report, emails) {
  byId('report-totals').replaceChildren(
    ...[
      ['Users with todos', report.users],
      ['Todos', report.todos],
      ['Completed', report.completed],
    ].map(([label, n]) => h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, String(n)))),
  );
  const rows = report.per_user.map((row) =>
    h(
      'tr',
      {},
      h('td', {}, emails.has(row.user_id) ? emailText(emails.get(row.user_id)) : h('code', {}, row.user_id)),
      h('td', { class: 'num nowrap' }, String(row.todos)),
      h('td', { class: 'num nowrap' }, String(row.completed)),
    ),
  );
  if (!rows.length) rows.push(h('tr', {}, h('td', { colspan: 3, class: 'empty-cell' }, 'No todos yet.')));
  byId('report-table').tBodies[0].replaceChildren(...rows);
}

function renderUsers({ users, pagination }) {
  const rows = users.map((u) =>
    h(
      'tr',
      {},
      h('td', {}, emailText(u.email)),
      h('td', {}, [u.first_name, u.last_name].filter(Boolean).join(' ') || '—'),
      h('td', { class: 'nowrap' }, u.role),
      h('td', { class: 'nowrap' }, u.is_active ? 'Yes' : 'No'),
      h('td', {}, timeEl(u.created_at)),
    ),
  );
  byId('users-table').tBodies[0].replaceChildren(...rows);
  byId('users-caption').textContent = `${plural(pagination.total, 'account')}`;
  show(byId('users-pager'), pagination.pages > 1);
  byId('users-page-info').textContent = `Page ${pagination.page} of ${pagination.pages}`;
  byId('users-prev').disabled = pagination.page <= 1;
  byId('users-next').disabled = pagination.page >= pagination.pages;
}

// --- wiring ---------------------------------------------------------------------------------

function wire() {
  byId('login-form').addEventListener('submit', onLogin);
  byId('register-form').addEventListener('submit', onRegister);
  byId('show-register').addEventListener('click', () => {
    clearError();
    showView('register');
    byId('register-email').focus();
  });
  byId('show-login').addEventListener('click', () => {
    clearError();
    showView('login');
    byId('login-email').focus();
  });
  byId('logout').addEventListener('click', () => onLogout(false));
  byId('logout-all').addEventListener('click', () => onLogout(true));
  byId('tab-todos').addEventListener('click', () => {
    clearError();
    selectTab('todos');
  });
  byId('tab-admin').addEventListener('click', () => {
    clearError();
    selectTab('admin');
  });
  byId('add-form').addEventListener('submit', onAdd);
  for (const radio of document.querySelectorAll('input[name="filter"]')) {
    radio.addEventListener('change', () => {
      clearError();
      state.filter = radio.value;
      state.page = 1;
      loadTodos();
    });
  }
  byId('per-page').addEventListener('change', (event) => {
    state.perPage = Number(event.currentTarget.value);
    state.page = 1;
    loadTodos();
  });
  // A pager button disabled on the last (or first) page passes the focus to its sibling.
  const keepFocus = (from, to) => {
    if (from.disabled) byId(to).focus();
  };
  byId('todo-prev').addEventListener('click', async () => {
    state.page = Math.max(1, state.page - 1);
    await loadTodos();
    keepFocus(byId('todo-prev'), 'todo-next');
  });
  byId('todo-next').addEventListener('click', async () => {
    state.page += 1;
    await loadTodos();
    keepFocus(byId('todo-next'), 'todo-prev');
  });
  byId('users-prev').addEventListener('click', async () => {
    state.usersPage = Math.max(1, state.usersPage - 1);
    await loadAdmin();
    keepFocus(byId('users-prev'), 'users-next');
  });
  byId('users-next').addEventListener('click', async () => {
    state.usersPage += 1;
    await loadAdmin();
    keepFocus(byId('users-next'), 'users-prev');
  });
  api.onSessionEnded((error) => {
    toLoggedOut();
    showError(error);
  });
}

async function boot() {
  wire();
  try {
    await api.loadConfig();
    showView('login');
    byId('login-email').focus();
  } catch (error) {
    showView('login');
    for (const el of byId('login-form').elements) el.disabled = true;
    showError(error);
  }
  document.documentElement.dataset.ready = 'true';
}

boot();
