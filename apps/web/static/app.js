// Lists items from the API when it is served under the same origin (/api/items);
// the static site works on its own too.
(async () => {
  const list = document.getElementById("items");
  try {
    const r = await fetch("/api/items", { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(r.status);
    const data = await r.json();
    list.replaceChildren(...data.items.map((it) => {
      const li = document.createElement("li");
      li.textContent = `${it.name}: ${it.price}`;
      return li;
    }));
  } catch (e) {
    list.replaceChildren(Object.assign(document.createElement("li"), { textContent: "API not reachable from here." }));
  }
})();
