// Conflicts: both values side by side per field; keep ATARYS', keep Google's, or type another.
import { useEffect, useId, useState } from "react";
import { api, paths } from "../lib/api.js";
import { clientName, fieldLabel, fieldValue, formatDate } from "../lib/format.js";
import { Link } from "../lib/router.jsx";
import { conflictRows, itemsOf } from "../lib/sync.js";
import { Button, Card, ErrorNotice, Notice } from "./ui.jsx";

function FieldChoice({ row, choice, onChange }) {
  const name = useId();
  const otherId = useId();
  const options = [
    { value: "atarys", title: "Valeur ATARYS", shown: row.atarys },
    { value: "google", title: "Valeur Google", shown: row.google },
  ];
  return (
    <fieldset className="rounded-md border border-slate-200 p-3">
      <legend className="px-1 text-sm font-semibold">{fieldLabel(row.field)}</legend>
      <div className="grid grid-cols-1 gap-2 sm:grid-cols-2">
        {options.map((opt) => (
          <label
            key={opt.value}
            className={`flex cursor-pointer items-start gap-2 rounded-md border p-2 text-sm ${choice.choice === opt.value ? "border-blue-600 bg-blue-50" : "border-slate-200"}`}
          >
            <input type="radio" name={name} value={opt.value} checked={choice.choice === opt.value} onChange={() => onChange({ choice: opt.value, value: "" })} className="mt-1" />
            <span>
              <span className="block text-xs text-slate-600">{opt.title}</span>
              <span className="[overflow-wrap:anywhere]">{fieldValue(row.field, opt.shown)}</span>
            </span>
          </label>
        ))}
      </div>
      <div className="mt-2 flex flex-wrap items-center gap-2 text-sm">
        <label className="flex items-center gap-2">
          <input type="radio" name={name} value="value" checked={choice.choice === "value"} onChange={() => onChange({ choice: "value", value: choice.value || "" })} />
          Autre valeur
        </label>
        <label htmlFor={otherId} className="sr-only">
          Autre valeur pour {fieldLabel(row.field)}
        </label>
        <input
          id={otherId}
          type="text"
          value={choice.value || ""}
          onChange={(e) => onChange({ choice: "value", value: e.target.value })}
          onFocus={() => choice.choice !== "value" && onChange({ choice: "value", value: choice.value || "" })}
          className="min-w-0 flex-1 rounded-md border border-slate-300 px-2 py-1"
        />
      </div>
    </fieldset>
  );
}

/** The request body for one field's choice. */
export function resolutionBody(choice) {
  if (choice.choice === "value") return { choice: "value", value: choice.value ?? "" };
  return { choice: choice.choice };
}

/** Open conflicts grouped per person: `[{key, clientId, resourceName, rows: [{id, field, atarys, google}]}]`. */
export function groupConflicts(conflicts) {
  const groups = new Map();
  for (const c of conflicts) {
    const key = c.client_id ? `client-${c.client_id}` : c.resource_name ? `google-${c.resource_name}` : `conflict-${c.id}`;
    if (!groups.has(key)) groups.set(key, { key, clientId: c.client_id, resourceName: c.resource_name, createdAt: c.created_at, rows: [] });
    for (const row of conflictRows(c)) groups.get(key).rows.push({ ...row, id: c.id, key: `${c.id}-${row.field}` });
  }
  return [...groups.values()];
}

function ConflictGroup({ group, name, onResolved }) {
  const [choices, setChoices] = useState({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [fieldErrors, setFieldErrors] = useState(null);
  const complete = group.rows.length > 0 && group.rows.every((r) => choices[r.key] && choices[r.key].choice);

  const resolve = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors(null);
    const done = [];
    try {
      for (const row of group.rows) {
        await api.post(paths.resolve(row.id), resolutionBody(choices[row.key]));
        done.push(row.id);
      }
      onResolved(group, name, done);
    } catch (err) {
      if (err.errors) setFieldErrors(err.errors);
      setError(err);
      if (done.length) onResolved(group, name, done, true);
    } finally {
      setBusy(false);
    }
  };

  const title = name || (group.clientId ? "Client sans nom" : "Contact Google sans nom");
  return (
    <li className="rounded-md border border-amber-200 bg-white p-3" data-testid="conflict" data-client-id={group.clientId ?? undefined}>
      <form onSubmit={resolve} aria-label={`Conflit : ${title}`}>
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <h3 className="font-semibold">{title}</h3>
          <span className="text-xs text-slate-600">
            {group.createdAt && `Détecté le ${formatDate(group.createdAt)}`}
            {group.clientId && (
              <>
                {" · "}
                <Link className="text-blue-700 underline" to={`/clients?id=${group.clientId}`}>
                  Fiche client
                </Link>
              </>
            )}
          </span>
        </div>
        <p className="mt-1 text-sm text-slate-700">
          Modifié des deux côtés depuis la dernière synchronisation. Choisissez la valeur à garder pour chaque champ.
        </p>
        <div className="mt-2 space-y-2">
          {group.rows.map((row) => (
            <FieldChoice key={row.key} row={row} choice={choices[row.key] || {}} onChange={(c) => setChoices((all) => ({ ...all, [row.key]: c }))} />
          ))}
        </div>
        {fieldErrors && (
          <ul className="mt-2 text-sm text-red-700">
            {Object.entries(fieldErrors).map(([k, v]) => (
              <li key={k}>
                {fieldLabel(k)} : {v}
              </li>
            ))}
          </ul>
        )}
        {error && !fieldErrors && <ErrorNotice error={error} className="mt-2" />}
        <div className="mt-3 flex justify-end">
          <Button type="submit" disabled={!complete || busy}>
            {busy ? "Enregistrement…" : "Régler ce conflit"}
          </Button>
        </div>
      </form>
    </li>
  );
}

export default function ConflictsPanel({ refreshKey, onResolved }) {
  const [conflicts, setConflicts] = useState([]);
  const [names, setNames] = useState({});
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);

  useEffect(() => {
    let alive = true;
    api
      .get(paths.conflicts)
      .then(async (res) => {
        const list = (Array.isArray(res.data) ? res.data : itemsOf(res.data)).filter(
          (c) => !c.resolved_at && (!c.status || c.status === "open"),
        );
        if (!alive) return;
        setConflicts(list);
        setError(null);
        const ids = [...new Set(list.map((c) => c.client_id).filter(Boolean))];
        const found = {};
        await Promise.all(
          ids.map((id) =>
            api
              .get(paths.client(id))
              .then((r) => {
                found[id] = clientName(r.data);
              })
              .catch(() => {}),
          ),
        );
        if (alive) setNames(found);
      })
      .catch((err) => alive && setError(err));
    return () => {
      alive = false;
    };
  }, [refreshKey]);

  const resolved = (group, name, ids, partial = false) => {
    const gone = new Set(ids);
    setConflicts((list) => list.filter((c) => !gone.has(c.id)));
    if (!partial) {
      setMessage(`${name || "Conflit"} : conflit réglé.`);
      if (onResolved) onResolved();
    }
  };

  const groups = groupConflicts(conflicts);
  return (
    <Card id="conflits" title={`Conflits${groups.length ? ` (${groups.length})` : ""}`}>
      <ErrorNotice error={error} />
      {message && (
        <Notice tone="success" className="mb-3">
          {message}
        </Notice>
      )}
      {!error && groups.length === 0 && <p className="text-sm text-slate-600">Aucun conflit à régler.</p>}
      <ul className="space-y-3">
        {groups.map((g) => (
          <ConflictGroup key={g.key} group={g} name={g.clientId ? names[g.clientId] : null} onResolved={resolved} />
        ))}
      </ul>
    </Card>
  );
}
