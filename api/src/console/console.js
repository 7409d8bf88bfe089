// 敲门工作台: the little the console's pages need from script. Every page works without it;
// with it, forms that delete ask first, a file upload shows its progress, the custom period
// opens in place and a click on a grid of the map shows its figures where the finger is.
"use strict";

function confirmations(root) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  }
}

// A large file (a street's GeoJSON) goes up with a progress bar; the answer replaces the page.
function uploads(root) {
  for (const form of root.querySelectorAll("form[data-progress]")) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const bar = document.getElementById(form.dataset.progress);
      const button = form.querySelector("button[type=submit]");
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", (p) => {
        if (p.lengthComputable) bar.value = Math.round((p.loaded / p.total) * 100);
      });
      xhr.addEventListener("load", () => {
        const doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        document.title = doc.title;
        document.body.replaceWith(doc.body);
        history.replaceState(null, "", xhr.responseURL || form.action);
        init(document.body);
      });
      xhr.addEventListener("error", () => {
        bar.hidden = true;
        button.disabled = false;
        window.alert("上传失败，请检查网络后重试");
      });
      bar.hidden = false;
      bar.value = 0;
      button.disabled = true;
      xhr.send(new FormData(form));
    });
  }
}

// 自定义: the date form opens under the period tabs.
function reveals(root) {
  for (const link of root.querySelectorAll("[data-reveal]")) {
    link.addEventListener("click", (e) => {
      e.preventDefault();
      const target = document.getElementById(link.dataset.reveal);
      target.classList.toggle("shown");
      const first = target.querySelector("input:not([type=hidden])");
      if (first) first.focus();
    });
  }
}

// The map: a click on a grid shows the legend's line for it in a popover.
function maps(root) {
  for (const link of root.querySelectorAll("svg.map a[href^='#grid-']")) {
    link.addEventListener("click", (e) => {
      const row = document.getElementById(link.getAttribute("href").slice(1));
      if (!row) return;
      e.preventDefault();
      let pop = document.getElementById("map-popover");
      if (!pop) {
        pop = document.createElement("div");
        pop.id = "map-popover";
        pop.className = "popover";
        pop.setAttribute("role", "status");
        pop.addEventListener("click", () => pop.remove());
        document.body.append(pop);
      }
      pop.textContent = row.textContent;
    });
  }
}

function init(root) {
  confirmations(root);
  uploads(root);
  reveals(root);
  maps(root);
}

init(document);
