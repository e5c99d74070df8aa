// dom.js: building elements without innerHTML, so no text from the API (names,
// errors) is ever parsed as markup.

// el('div', {class: 'x', dataset: {id: 'm1'}, href: '#'}, child, 'text', ...)
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

// Sets text only when it differs: an unchanged value costs no layout work.
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export function setData(node, key, v) {
  const s = String(v);
  if (node.dataset[key] !== s) node.dataset[key] = s;
}
