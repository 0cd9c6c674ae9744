// Small DOM helpers: element creation without innerHTML (nothing from the server is ever parsed
// as HTML), lookups and formatting.

/** The element with this id; throws if the page lacks it (a bug, not a runtime condition). */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/**
 * Creates an element: `h('button', {type: 'button', class: 'btn', onclick: fn}, 'Save')`.
 * Attributes starting with `on` become listeners; `dataset` sets data-*; `false`, `null` and
 * `undefined` attributes are left out; children are nodes or text (never parsed as HTML).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (name === 'class') {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Shows or hides an element (the `hidden` attribute). */
export function show(el, visible) {
  el.hidden = !visible;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** An RFC 3339 time as the reader's local date and time. */
export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}

/** A `<time>` element for an RFC 3339 time. */
export function timeEl(iso) {
  return h('time', { datetime: iso }, formatTime(iso));
}

/** "1 todo", "3 todos". */
export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
