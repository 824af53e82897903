import { useCallback, useEffect, useRef, useState } from "react";
import { api, paths } from "../lib/api.js";
import { clientName, FIELD_LABELS, formatDate, formatPhone } from "../lib/format.js";
import { navigate, useLocation } from "../lib/router.jsx";
import { itemsOf } from "../lib/sync.js";
import openapi from "../generated/openapi.json";
import { Badge, Button, ConfirmDialog, Dialog, DialogActions, Email, ErrorNotice, Field, Notice } from "../components/ui.jsx";

const PER_PAGE = 20;
// Each field's length limit, from the API's own schema (one source: clients/schemas.py).
export const FIELD_LIMITS = Object.fromEntries(
  Object.entries(openapi.components.schemas.ClientIn.properties).map(([key, field]) => [key, field.maxLength]),
);
// The form's fields: the synced ones, and the tag (ATARYS only: it chooses which phones get the client).
export const TAG_LABEL = "Étiquette";
export const TAG_HINT =
  "Choisit quels téléphones de l'équipe reçoivent ce client (leur filtre « Étiquette »), par exemple chantier-nord. Facultatif.";
const EMPTY = Object.fromEntries([...Object.keys(FIELD_LABELS), "tag"].map((k) => [k, ""]));

const SORTS = [
  { value: "nom", label: "Nom (A → Z)" },
  { value: "-nom", label: "Nom (Z → A)" },
  { value: "ville", label: "Ville" },
  { value: "entreprise", label: "Entreprise" },
  { value: "-updated_at", label: "Modifiés récemment" },
  { value: "-created_at", label: "Créés récemment" },
];

// The sync state of a client: the API's own `sync` key when it gives one, else what the
// open conflicts and duplicates say about it (`known`: {conflicts: Set, duplicates: Set}).
export function syncStateOf(client, known = null) {
  const raw =
    client.sync_status ??
    (client.sync && (client.sync.status || client.sync.state)) ??
    (client.google && (client.google.status || client.google.state)) ??
    null;
  if (known && known.conflicts.has(client.id)) return "conflict";
  if (raw) return String(raw).toLowerCase();
  if (known && known.duplicates.has(client.id)) return "duplicate";
  const link = known && known.links ? known.links.get(client.id) : null;
  if (link) {
    if (link.status) return String(link.status).toLowerCase();
    if (link.error) return "error";
    const synced = Date.parse(link.synced_at || "");
    const updated = Date.parse(client.updated_at || "");
    if (!Number.isNaN(synced) && !Number.isNaN(updated) && updated > synced + 1000) return "pending";
    return "linked";
  }
  if (client.google_id || client.resource_name || (client.sync && client.sync.resource_name)) return "linked";
  return "unknown";
}

const SYNC_BADGES = {
  linked: { tone: "green", label: "Synchronisé" },
  synced: { tone: "green", label: "Synchronisé" },
  ok: { tone: "green", label: "Synchronisé" },
  pending: { tone: "blue", label: "En attente" },
  conflict: { tone: "amber", label: "Conflit" },
  error: { tone: "red", label: "Erreur" },
  duplicate: { tone: "purple", label: "Doublon" },
  excluded: { tone: "amber", label: "dissocié" },
  disconnected: { tone: "slate", label: "Google déconnecté" },
  none: { tone: "slate", label: "Non lié" },
  unlinked: { tone: "slate", label: "Non lié" },
  unknown: { tone: "slate", label: "—" },
};

const DISCONNECTED_TEXT =
  "Google Contacts est déconnecté : les modifications de ce client ne partent plus vers les téléphones. Reconnectez Google (page Google Contacts) pour reprendre, sans créer de doublon.";
const EXCLUDED_TEXT =
  "Son contact a été supprimé sur un téléphone : ce client n'est plus synchronisé. « Réactiver la synchronisation » recrée son contact dans Google.";

export function SyncBadge({ client, known }) {
  const state = syncStateOf(client, known);
  const badge = SYNC_BADGES[state] || { tone: "slate", label: state };
  const detail =
    (client.sync && (client.sync.error || client.sync.message)) ||
    (state === "unknown" ? "État de synchronisation inconnu" : undefined) ||
    (state === "excluded" ? EXCLUDED_TEXT : undefined) ||
    (state === "disconnected" ? DISCONNECTED_TEXT : undefined);
  return (
    <Badge tone={badge.tone} title={detail} data-sync-state={state}>
      {badge.label}
      {state === "unknown" && <span className="sr-only">État de synchronisation inconnu</span>}
      {state === "excluded" && <span className="sr-only"> : son contact a été supprimé sur un téléphone, il n'est plus synchronisé</span>}
    </Badge>
  );
}

/** What deleting a client does in Google, from the account's setting. */
export function deletionConsequence(setting) {
  if (setting === "propagate") return "Son contact sera aussi supprimé de Google Contacts à la prochaine synchronisation (réglage « Reporter les suppressions »).";
  if (setting === "unlink") return "Son contact reste dans Google Contacts ; il ne sera simplement plus synchronisé.";
  if (setting === "not_connected") return "Google n'est pas connecté : rien ne change dans Google Contacts.";
  return "Vérification de ce qui se passera dans Google Contacts…";
}

/** The row's actions behind one button (compact rows). */
function RowMenu({ client, busy, excluded, onEdit, onSync, onResume, onDelete }) {
  const [open, setOpen] = useState(false);
  const box = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const close = (event) => {
      if (event.type === "keydown" && event.key !== "Escape") return;
      if (event.type === "mousedown" && box.current && box.current.contains(event.target)) return;
      setOpen(false);
    };
    document.addEventListener("mousedown", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("mousedown", close);
      document.removeEventListener("keydown", close);
    };
  }, [open]);
  const pick = (fn) => () => {
    setOpen(false);
    fn();
  };
  const item = "block w-full px-3 py-2 text-left text-sm hover:bg-slate-100";
  return (
    <div className="relative inline-block" ref={box}>
      <Button variant="ghost" size="sm" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((o) => !o)} aria-label={`Actions pour ${clientName(client)}`}>
        <span className="whitespace-nowrap">{busy ? "Synchronisation…" : "Actions ▾"}</span>
      </Button>
      {open && (
        <div role="menu" className="absolute right-0 z-20 mt-1 w-56 rounded-md border border-slate-200 bg-white py-1 shadow-lg">
          <button type="button" role="menuitem" className={item} onClick={pick(onEdit)}>
            Modifier
          </button>
          {excluded ? (
            <button type="button" role="menuitem" className={item} onClick={pick(onResume)} disabled={busy}>
              Réactiver la synchronisation
            </button>
          ) : (
            <button type="button" role="menuitem" className={item} onClick={pick(onSync)} disabled={busy}>
              Synchroniser avec Google
            </button>
          )}
          <button type="button" role="menuitem" className={`${item} text-red-700`} onClick={pick(onDelete)}>
            Supprimer
          </button>
        </div>
      )}
    </div>
  );
}

function ClientForm({ initial, onSaved, onCancel }) {
  const editing = Boolean(initial && initial.id);
  const [values, setValues] = useState(() => {
    const base = { ...EMPTY };
    if (initial) for (const key of Object.keys(EMPTY)) base[key] = initial[key] ?? "";
    return base;
  });
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);

  const set = (key) => (value) => setValues((v) => ({ ...v, [key]: value }));

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(null);
    const body = {};
    for (const [key, value] of Object.entries(values)) body[key] = value.trim() === "" ? null : value.trim();
    try {
      const res = editing ? await api.put(paths.client(initial.id), body) : await api.post(paths.clients, body);
      onSaved(res.data, res.message || (editing ? "Client mis à jour" : "Client créé"));
    } catch (err) {
      if (err.errors) setErrors(err.errors);
      const fieldErrors = err.errors && Object.keys(err.errors).some((k) => k in EMPTY);
      if (!fieldErrors) setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  const fields = [
    ["nom", { required: true, autoComplete: "family-name" }],
    ["prenom", { autoComplete: "given-name" }],
    ["email", { type: "email", autoComplete: "email" }],
    ["telephone", { type: "tel", autoComplete: "tel", hint: "Par exemple 06 12 34 56 78" }],
    ["adresse", { autoComplete: "street-address" }],
    ["ville", { autoComplete: "address-level2" }],
    ["code_postal", { autoComplete: "postal-code" }],
    ["entreprise", { autoComplete: "organization" }],
    ["fonction", { autoComplete: "organization-title" }],
    ["tag", { autoComplete: "off", hint: TAG_HINT }],
  ].map(([key, props]) => [key, { maxLength: FIELD_LIMITS[key], ...props }]);
  return (
    <Dialog title={editing ? `Modifier ${clientName(initial)}` : "Nouveau client"} onClose={onCancel}>
      <form onSubmit={submit} noValidate aria-label={editing ? "Modifier le client" : "Nouveau client"}>
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
          {fields.map(([key, props]) => (
            <Field key={key} label={key === "tag" ? TAG_LABEL : FIELD_LABELS[key]} name={key} value={values[key]} onChange={set(key)} error={errors[key]} {...props} />
          ))}
        </div>
        {Object.keys(errors).length > 0 && (
          <Notice tone="error" className="mt-4" title="Le formulaire contient des erreurs">
            Corrigez les champs signalés en rouge puis enregistrez à nouveau.
          </Notice>
        )}
        <ErrorNotice error={failure} className="mt-4" />
        <DialogActions className="mt-6">
          <Button variant="secondary" onClick={onCancel}>
            Annuler
          </Button>
          <Button type="submit" disabled={busy}>
            {busy ? "Enregistrement…" : "Enregistrer"}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/** "Corbeille": clients deleted in the last 30 days, each with « Restaurer ». */
export function ClientsTrash({ onClose, onRestored }) {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  const [rowError, setRowError] = useState(null);
  const [done, setDone] = useState(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    api
      .get(paths.clients, { query: { deleted: "true", per_page: 100 } })
      .then((res) => {
        setRows(res.data || []);
        setError(null);
      })
      .catch(setError);
  }, [reload]);

  const restore = async (client) => {
    setBusy(client.id);
    setRowError(null);
    setDone(null);
    try {
      const res = await api.post(paths.restoreClient(client.id), {});
      // the API adds with whom the address is shared (a company's info@), if anyone
      const shared = /partagée avec ([^)]*)\)/.exec(res.message || "");
      const note = shared ? ` Son adresse e-mail est partagée avec ${shared[1]}.` : "";
      setDone(`${clientName(client)} est de retour dans la liste des clients.${note}`);
      setReload((n) => n + 1);
      if (onRestored) onRestored(client);
    } catch (err) {
      setRowError({ name: clientName(client), error: err });
    } finally {
      setBusy(null);
    }
  };

  return (
    <Dialog title="Corbeille des clients" onClose={onClose}>
      <p className="text-sm text-slate-600">Les clients supprimés ces 30 derniers jours, les plus récents d'abord.</p>
      <ErrorNotice error={error} className="mt-2">
        <Button variant="secondary" onClick={() => setReload((n) => n + 1)}>
          Réessayer
        </Button>
      </ErrorNotice>
      {done && (
        <Notice tone="success" className="mt-2">
          {done}
        </Notice>
      )}
      {rowError && (
        <div className="mt-2">
          <p className="text-sm font-medium">Restauration de {rowError.name} impossible :</p>
          <ErrorNotice error={rowError.error} />
        </div>
      )}
      {!rows && !error && <p role="status" className="mt-2 text-sm">Chargement…</p>}
      {rows && rows.length === 0 && <p className="mt-2 text-sm text-slate-600">La corbeille est vide.</p>}
      {rows && rows.length > 0 && (
        <ul className="mt-2 divide-y divide-slate-100" data-testid="clients-trash">
          {rows.map((c) => (
            <li key={c.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
              <span className="min-w-0">
                <span className="font-medium">{clientName(c)}</span>
                {c.entreprise && <span className="text-slate-600"> — {c.entreprise}</span>}
                <span className="block text-xs text-slate-600">Supprimé le {formatDate(c.deleted_at)}</span>
              </span>
              <Button variant="secondary" size="sm" onClick={() => restore(c)} disabled={busy === c.id} aria-label={`Restaurer ${clientName(c)}`}>
                {busy === c.id ? "Restauration…" : "Restaurer"}
              </Button>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}

export default function ClientsPage() {
  const { search } = useLocation();
  const params = new URLSearchParams(search);
  const [query, setQuery] = useState(() => params.get("q") || "");
  const [debounced, setDebounced] = useState(query);
  const [sort, setSort] = useState(() => (SORTS.some((x) => x.value === params.get("tri")) ? params.get("tri") : "nom"));
  const [page, setPage] = useState(() => Math.max(1, Number(params.get("page")) || 1));
  const [region, setRegion] = useState("FR");
  const [deletions, setDeletions] = useState(null); // the account's atarys_deletions setting
  const [result, setResult] = useState({ items: [], pagination: null });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  const [editing, setEditing] = useState(null); // null | {} (new) | client
  const [deleting, setDeleting] = useState(null);
  const [message, setMessage] = useState(null);
  const [rowBusy, setRowBusy] = useState(null);
  const [rowError, setRowError] = useState(null);
  const [trashOpen, setTrashOpen] = useState(false);
  const requestId = useRef(0);
  const [known, setKnown] = useState({ conflicts: new Set(), duplicates: new Set(), links: null });

  // Which clients of this page are linked to a Google contact (when the API tells).
  const loadLinks = useCallback((items) => {
    if (!items.length) return;
    api
      .get(paths.links, { query: { client_ids: items.map((c) => c.id).join(",") } })
      .then((res) => {
        const list = Array.isArray(res.data) ? res.data : itemsOf(res.data);
        const links = new Map(list.filter((l) => l.client_id).map((l) => [l.client_id, l]));
        setKnown((k) => ({ ...k, links: new Map([...(k.links || []), ...links]) }));
      })
      .catch(() => {});
  }, []);

  // Conflicts and duplicates mark the clients concerned (badges).
  const loadKnown = useCallback(() => {
    Promise.all([api.get(paths.conflicts).catch(() => null), api.get(paths.duplicates).catch(() => null)]).then(([c, d]) => {
      const conflicts = new Set();
      const duplicates = new Set();
      for (const item of (c && Array.isArray(c.data) ? c.data : [])) {
        if (item.client_id && (!item.status || item.status === "open")) conflicts.add(item.client_id);
      }
      for (const item of (d && Array.isArray(d.data) ? d.data : [])) {
        if (item.status && item.status !== "open") continue;
        for (const id of item.client_ids || []) duplicates.add(id);
      }
      setKnown((k) => ({ ...k, conflicts, duplicates }));
    });
  }, []);

  useEffect(() => {
    loadKnown();
  }, [loadKnown]);

  useEffect(() => {
    const timer = setTimeout(() => setDebounced(query), 250);
    return () => clearTimeout(timer);
  }, [query]);

  const firstFilter = useRef(true);
  useEffect(() => {
    if (firstFilter.current) {
      firstFilter.current = false;
      return;
    }
    setPage(1);
  }, [debounced, sort]);

  // Page, sort and search live in the address (shareable, kept by reload and Back).
  useEffect(() => {
    const next = new URLSearchParams(window.location.search);
    const set = (key, value, fallback) => (value && value !== fallback ? next.set(key, value) : next.delete(key));
    set("q", debounced, "");
    set("tri", sort, "nom");
    set("page", page > 1 ? String(page) : "", "");
    const text = next.toString();
    const target = `/clients${text ? `?${text}` : ""}`;
    if (`${window.location.pathname}${window.location.search}` !== target) navigate(target, { replace: true });
  }, [debounced, sort, page]);

  // Phones in the configured region's format; the delete dialog says what happens in Google.
  useEffect(() => {
    api
      .get(paths.settings)
      .then((res) => {
        if (res.data && res.data.phone_region) setRegion(res.data.phone_region);
        if (res.data && res.data.atarys_deletions) setDeletions(res.data.atarys_deletions);
      })
      .catch(() => setDeletions("not_connected"));
  }, []);

  const load = useCallback(async () => {
    const id = ++requestId.current;
    setLoading(true);
    try {
      const res = await api.get(paths.clients, { query: { page, per_page: PER_PAGE, q: debounced, sort } });
      if (id !== requestId.current) return;
      const items = res.data || [];
      setResult({ items, pagination: res.pagination || null });
      setError(null);
      loadLinks(items);
    } catch (err) {
      if (id === requestId.current) setError(err);
    } finally {
      if (id === requestId.current) setLoading(false);
    }
  }, [page, debounced, sort]);

  useEffect(() => {
    load();
  }, [load]);

  // /clients?id=42 opens that client (links from the duplicates list).
  const openId = params.get("id");
  useEffect(() => {
    if (!openId) return;
    api
      .get(paths.client(openId))
      .then((res) => setEditing(res.data))
      .catch((err) => setError(err));
  }, [openId]);

  const closeForm = () => {
    setEditing(null);
    const current = new URLSearchParams(window.location.search);
    if (current.get("id")) {
      current.delete("id");
      const text = current.toString();
      navigate(`/clients${text ? `?${text}` : ""}`, { replace: true });
    }
  };

  const saved = (client, text) => {
    closeForm();
    setMessage(text);
    load();
  };

  const remove = async () => {
    const client = deleting;
    try {
      const res = await api.del(paths.client(client.id));
      setMessage(res.message || "Client supprimé");
      setDeleting(null);
      load();
    } catch (err) {
      setDeleting(null);
      setRowError({ id: client.id, error: err });
    }
  };

  const syncOne = async (client) => {
    setRowBusy(client.id);
    setRowError(null);
    try {
      const res = await api.post(paths.syncToGoogle(client.id), {});
      const action = String((res.data && res.data.action) || "").toLowerCase();
      const words = {
        created: "contact créé dans Google Contacts",
        create: "contact créé dans Google Contacts",
        updated: "contact mis à jour dans Google Contacts",
        update: "contact mis à jour dans Google Contacts",
        deleted: "contact supprimé dans Google Contacts",
        unchanged: "déjà à jour dans Google Contacts",
        noop: "déjà à jour dans Google Contacts",
        conflict: "conflit détecté : réglez-le dans la page Google Contacts",
      };
      setMessage(`${clientName(client)} : ${words[action] || "synchronisé avec Google Contacts"}.`);
      load();
      loadKnown();
    } catch (err) {
      setRowError({ id: client.id, error: err });
    } finally {
      setRowBusy(null);
    }
  };

  const resume = async (client) => {
    setRowBusy(client.id);
    setRowError(null);
    try {
      await api.post(paths.resume(client.id), {});
      setMessage(`${clientName(client)} : synchronisation réactivée. La prochaine synchronisation recrée son contact dans Google Contacts.`);
      load();
    } catch (err) {
      setRowError({ id: client.id, error: err });
    } finally {
      setRowBusy(null);
    }
  };

  const pg = result.pagination;
  return (
    <div>
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-2xl font-semibold">Clients</h1>
        <div className="flex flex-wrap gap-2">
          <Button variant="secondary" onClick={() => setTrashOpen(true)}>
            Corbeille
          </Button>
          <Button onClick={() => setEditing({})}>Nouveau client</Button>
        </div>
      </div>
      <div className="mt-4 flex flex-col gap-3 sm:flex-row sm:items-end">
        <div className="flex-1">
          <label htmlFor="recherche-clients" className="block text-sm font-medium">
            Rechercher
          </label>
          <input
            id="recherche-clients"
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="Nom, e-mail, téléphone, étiquette…"
            className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm"
          />
        </div>
        <div>
          <label htmlFor="tri-clients" className="block text-sm font-medium">
            Trier par
          </label>
          <select
            id="tri-clients"
            value={sort}
            onChange={(e) => setSort(e.target.value)}
            className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm sm:w-auto"
          >
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
      </div>

      {message && (
        <Notice tone="success" className="mt-4">
          <div className="flex items-start justify-between gap-2">
            <span>{message}</span>
            <button type="button" onClick={() => setMessage(null)} className="text-green-900 underline">
              Masquer
            </button>
          </div>
        </Notice>
      )}
      <ErrorNotice error={error} className="mt-4">
        <Button variant="secondary" onClick={load}>
          Réessayer
        </Button>
      </ErrorNotice>
      {rowError && <ErrorNotice error={rowError.error} className="mt-4" />}

      <div className="mt-4 relative overflow-x-auto rounded-lg border border-slate-200 bg-white">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">Liste des clients</caption>
          <thead className="bg-slate-50 text-slate-700">
            <tr>
              <th scope="col" className="px-2 py-2 sm:px-3">Client</th>
              <th scope="col" className="hidden px-3 py-2 md:table-cell">E-mail</th>
              <th scope="col" className="hidden px-3 py-2 lg:table-cell">Téléphone</th>
              <th scope="col" className="hidden px-3 py-2 md:table-cell">Ville</th>
              <th scope="col" className="hidden px-3 py-2 lg:table-cell">Entreprise</th>
              <th scope="col" className="px-1 py-2 sm:px-3">Google</th>
              <th scope="col" className="px-1 py-2 sm:px-3"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody aria-busy={loading ? "true" : undefined}>
            {result.items.map((c) => (
              <tr key={c.id} className="border-t border-slate-100 align-middle" data-client-id={c.id}>
                <td className="px-2 py-2 sm:px-3">
                  <span className="font-medium">{clientName(c)}</span>
                  {c.tag && (
                    <span
                      className="ml-2 inline-block max-w-[10rem] truncate rounded-full bg-blue-50 px-2 py-0.5 align-middle text-xs font-medium text-blue-900 sm:max-w-[16rem]"
                      title={`${TAG_LABEL} « ${c.tag} » : choisit quels téléphones de l'équipe reçoivent ce client`}
                      data-testid="client-tag"
                    >
                      <span className="sr-only">{TAG_LABEL} : </span>
                      {c.tag}
                    </span>
                  )}
                  <span className="block text-xs text-slate-600 md:hidden">
                    <Email value={c.email} />
                  </span>
                  <span className="block text-xs whitespace-nowrap text-slate-600 lg:hidden">{formatPhone(c.telephone, region)}</span>
                </td>
                <td className="hidden px-3 py-1.5 md:table-cell">
                  <Email value={c.email} />
                </td>
                <td className="hidden px-3 py-1.5 whitespace-nowrap lg:table-cell">{formatPhone(c.telephone, region)}</td>
                <td className="hidden px-3 py-2 md:table-cell">{c.ville}</td>
                <td className="hidden px-3 py-2 lg:table-cell">{c.entreprise}</td>
                <td className="px-1 py-2 sm:px-3">
                  <SyncBadge client={c} known={known} />
                </td>
                <td className="px-1 py-1 text-right sm:px-3">
                  <RowMenu
                    client={c}
                    busy={rowBusy === c.id}
                    excluded={syncStateOf(c, known) === "excluded"}
                    onEdit={() => setEditing(c)}
                    onSync={() => syncOne(c)}
                    onResume={() => resume(c)}
                    onDelete={() => setDeleting(c)}
                  />
                </td>
              </tr>
            ))}
            {!loading && result.items.length === 0 && (
              <tr>
                <td colSpan={7} className="px-3 py-6 text-center text-slate-600">
                  {debounced ? `Aucun client ne correspond à « ${debounced} ».` : "Aucun client pour l'instant."}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      {pg && (
        <nav aria-label="Pagination des clients" className="mt-3 flex flex-wrap items-center justify-between gap-2 text-sm">
          <p aria-live="polite">
            {pg.total} client{pg.total > 1 ? "s" : ""} — page {pg.page} sur {Math.max(pg.pages, 1)}
          </p>
          <div className="flex gap-2">
            <Button variant="secondary" disabled={!pg.has_prev} onClick={() => setPage((p) => p - 1)}>
              Précédente
            </Button>
            <Button variant="secondary" disabled={!pg.has_next} onClick={() => setPage((p) => p + 1)}>
              Suivante
            </Button>
          </div>
        </nav>
      )}

      {trashOpen && (
        <ClientsTrash
          onClose={() => setTrashOpen(false)}
          onRestored={(c) => {
            setMessage(`${clientName(c)} restauré.`);
            load();
          }}
        />
      )}
      {editing && <ClientForm initial={editing} onSaved={saved} onCancel={closeForm} />}
      {deleting && (
        <ConfirmDialog
          title="Supprimer ce client ?"
          confirmLabel="Supprimer"
          onConfirm={remove}
          onCancel={() => setDeleting(null)}
        >
          <p>{clientName(deleting)} sera supprimé d'ATARYS.</p>
          <p className="mt-2">{deletionConsequence(deletions)}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
