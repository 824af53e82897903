// Duplicates: records that look like the same person, with links to each of them.
import { useEffect, useState } from "react";
import { api, paths } from "../lib/api.js";
import { clientName } from "../lib/format.js";
import { Link } from "../lib/router.jsx";
import { itemsOf } from "../lib/sync.js";
import { Card, ErrorNotice } from "./ui.jsx";

function googleUrl(record) {
  if (record.url) return record.url;
  const id = String(record.google_id || record.resource_name || "").replace(/^people\//, "");
  return id ? `https://contacts.google.com/person/${id}` : null;
}

/** Every record of a duplicate group as `{key, side, label, href, external}`. */
export function duplicateRecords(group) {
  const out = [];
  const clients = group.clients || (group.client ? [group.client] : []);
  const contacts = group.contacts || group.google || (group.contact ? [group.contact] : []);
  for (const c of clients) {
    const id = c.id ?? c.client_id;
    out.push({ key: `a${id}`, side: "ATARYS", label: clientName(c) || `Client n° ${id}`, href: `/clients?id=${id}`, external: false });
  }
  for (const g of Array.isArray(contacts) ? contacts : []) {
    out.push({ key: `g${g.google_id || g.resource_name}`, side: "Google", label: clientName(g) || g.google_id || g.resource_name, href: googleUrl(g), external: true });
  }
  for (const id of group.client_ids || []) {
    if (!out.some((r) => r.key === `a${id}`)) out.push({ key: `a${id}`, side: "ATARYS", label: `Client n° ${id}`, href: `/clients?id=${id}`, external: false });
  }
  const ids = [...(group.google_ids || []), ...(group.resource_names || [])];
  ids.forEach((id, index) => {
    const label = ids.length > 1 ? `contact n° ${index + 1}` : "contact";
    if (!out.some((r) => r.key === `g${id}`)) out.push({ key: `g${id}`, side: "Google", label, title: id, href: googleUrl({ google_id: id }), external: true });
  });
  if (!out.length && group.client_id) out.push({ key: `a${group.client_id}`, side: "ATARYS", label: `Client n° ${group.client_id}`, href: `/clients?id=${group.client_id}`, external: false });
  if (group.google_id && !out.some((r) => r.side === "Google")) out.push({ key: `g${group.google_id}`, side: "Google", label: group.google_id, href: googleUrl(group), external: true });
  return out;
}

const REASONS = {
  clients_same_email: "Plusieurs clients ATARYS ont le même e-mail",
  contacts_same_email: "Plusieurs contacts Google ont le même e-mail",
  same_email: "Même adresse e-mail",
  ambiguous_email: "Même adresse e-mail des deux côtés",
};

function duplicateTitle(group) {
  const reason = group.reason ? REASONS[group.reason] || REASONS[String(group.reason).replace(/-/g, "_")] : null;
  const email = group.email ? ` : ${group.email}` : "";
  if (reason) return `${reason}${email}`;
  return group.email ? `Même e-mail : ${group.email}` : "Fiches semblables";
}

export default function DuplicatesPanel({ refreshKey }) {
  const [groups, setGroups] = useState([]);
  const [error, setError] = useState(null);
  useEffect(() => {
    api
      .get(paths.duplicates)
      .then((res) => {
        setGroups(Array.isArray(res.data) ? res.data : itemsOf(res.data));
        setError(null);
      })
      .catch(setError);
  }, [refreshKey]);
  return (
    <Card id="doublons" title={`Doublons${groups.length ? ` (${groups.length})` : ""}`}>
      <ErrorNotice error={error} />
      {!error && groups.length === 0 && <p className="text-sm text-slate-600">Aucun doublon détecté.</p>}
      {groups.length > 0 && (
        <p className="mb-2 text-sm text-slate-700">
          Ces fiches semblent désigner la même personne. Ouvrez-les pour les comparer, puis corrigez ou supprimez celle en trop.
        </p>
      )}
      <ul className="space-y-2">
        {groups.map((g, i) => (
          <li key={g.id ?? i} className="rounded-md border border-purple-200 p-3 text-sm">
            <p className="font-medium">{duplicateTitle(g)}</p>
            <ul className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
              {duplicateRecords(g).map((r) => (
                <li key={r.key}>
                  <span className="text-xs text-slate-600">{r.side} : </span>
                  {r.href && !r.external ? (
                    <Link to={r.href} className="text-blue-700 underline">
                      {r.label}
                    </Link>
                  ) : r.href ? (
                    <a
                      href={r.href}
                      title={r.title}
                      className="text-blue-700 underline break-all"
                      {...(r.external ? { target: "_blank", rel: "noreferrer" } : {})}
                    >
                      {r.label}
                      {r.external && <span className="sr-only"> (s'ouvre dans Google Contacts, nouvel onglet)</span>}
                    </a>
                  ) : (
                    r.label
                  )}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </Card>
  );
}
