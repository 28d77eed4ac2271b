/* The FAQ's search: every typed word must occur in an entry (its question, keywords or
   answer). The index is in the page itself (script#_index), so nothing is fetched and
   the site works from file://. Results are built as text nodes, never as HTML. */
(function () {
  "use strict";
  var form = document.getElementById("_search");
  var data = document.getElementById("_index");
  if (!form || !data) {
    return;
  }
  var index = JSON.parse(data.textContent);
  var lang = document.documentElement.getAttribute("lang");
  var input = document.getElementById("_q");
  var status = document.getElementById("_status");
  var list = document.getElementById("_results");

  function norm(text) {
    return text.normalize("NFKC").toLowerCase();
  }

  var entries = index.entries.map(function (entry, order) {
    return {
      entry: entry,
      order: order,
      question: norm(entry.question),
      keywords: norm(entry.keywords.concat(entry.tags).join(" ")),
      text: norm(entry.text)
    };
  });

  function score(item, words) {
    var total = 0;
    for (var i = 0; i < words.length; i++) {
      var word = words[i];
      var found = (item.question.indexOf(word) >= 0 ? 3 : 0) + (item.keywords.indexOf(word) >= 0 ? 2 : 0) +
        (item.text.indexOf(word) >= 0 ? 1 : 0);
      if (!found) {
        return 0;
      }
      total += found;
    }
    return total;
  }

  function show() {
    var words = norm(input.value).split(/\s+/).filter(Boolean);
    list.textContent = "";
    if (!words.length) {
      status.textContent = "";
      return;
    }
    var hits = [];
    entries.forEach(function (item) {
      var points = score(item, words);
      if (points) {
        hits.push({ item: item, points: points, here: item.entry.lang === lang ? 0 : 1 });
      }
    });
    // this page's language first, then the better match, then the page's own order (most asked first)
    hits.sort(function (a, b) {
      return a.here - b.here || b.points - a.points || a.item.order - b.item.order;
    });
    hits.slice(0, 10).forEach(function (hit) {
      var entry = hit.item.entry;
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = (hit.here ? entry.page : "") + "#" + encodeURIComponent(entry.id);
      link.setAttribute("lang", entry.lang);
      link.textContent = entry.question;
      li.appendChild(link);
      if (hit.here) {
        var where = document.createElement("span");
        where.textContent = " (" + (index.languages[entry.lang] || entry.lang) + ")";
        li.appendChild(where);
      }
      list.appendChild(li);
    });
    status.textContent = hits.length ? form.getAttribute("data-found").replace("{n}", String(hits.length)) :
      form.getAttribute("data-none");
  }

  input.addEventListener("input", show);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    show();
    var first = list.querySelector("a");
    if (first) {
      first.focus();
    }
  });
  form.hidden = false;
  if (input.value) {
    show();
  }
}());
