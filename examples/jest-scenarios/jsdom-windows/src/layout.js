// Re-lays a list out when the terminal resizes (a debugging aid). The listener goes on the worker's real
// process.stderr (Jest's per-file `process` is a copy, its streams are the worker's) and closes over this file's
// jsdom window and the list it built: every file's window and DOM tree stay alive after Jest closed them.
function build(n) {
  const list = document.createElement('ul');
  for (let i = 0; i < n; i++) {
    const li = document.createElement('li');
    li.textContent = `item ${i}`;
    list.appendChild(li);
  }
  document.body.appendChild(list);
  process.stderr.on('resize', () => {
    list.dataset.width = String(window.innerWidth);
  });
  return list.children.length;
}

module.exports = { build };
