// « Téléphones de l'équipe »: every Google account linked to ATARYS, its state, runs,
// filter and settings; connect another phone, disconnect one; Google Workspace for admins.
import { useCallback, useEffect, useId, useState } from "react";
import { api, paths } from "../lib/api.js";
import { accountState, FILTER_FIELDS, filterBody, filterText, lastRunText, nextRunText } from "../lib/accounts.js";
import { ATARYS_DELETION_LABELS, GOOGLE_DELETION_LABELS, IMPORT_SCOPE_LABELS, POLICY_LABELS } from "../components/SettingsPanel.jsx";
import { Badge, Button, Card, ConfirmDialog, Dialog, ErrorNotice, Field, Notice } from "../components/ui.jsx";
import { conflictPolicyValues, deletionSettingValues, importScopeValues } from "../generated/api.ts";

const SELECTS = [
  ["conflict_policy", "En cas de conflit", conflictPolicyValues, POLICY_LABELS],
  ["google_deletions", "Contact supprimé sur ce téléphone", deletionSettingValues, GOOGLE_DELETION_LABELS],
  ["atarys_deletions", "Client supprimé dans ATARYS", deletionSettingValues, ATARYS_DELETION_LABELS],
  ["import_scope", "Contacts du téléphone à importer", importScopeValues, IMPORT_SCOPE_LABELS],
];

const HINTS = {
  code_postal: "Les premiers chiffres suffisent : 69 prend tous les codes postaux du Rhône.",
  tag: "Le mot noté dans le champ « Étiquette » de la fiche du client, par exemple chantier-nord.",
};

/** The API's per-field errors by the field's last name ("client_filter.ville" → "ville"). */
function fieldErrors(err) {
  const out = {};
  if (err && err.errors && typeof err.errors === "object") {
    for (const [key, text] of Object.entries(err.errors)) out[key.split(".").pop()] = Array.isArray(text) ? text.join(" ") : String(text);
  }
  return out;
}

function Select({ label, value, options, labels, onChange, error }) {
  const id = useId();
  const known = options.includes(value) || !value ? options : [...options, value];
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <select
        id={id}
        value={value ?? ""}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? "true" : undefined}
        className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm"
      >
        {known.map((v) => (
          <option key={v} value={v}>
            {labels[v] || (options.includes(v) ? v : `Groupe « ${v} »`)}
          </option>
        ))}
      </select>
      {error && <p className="mt-1 text-sm text-red-700">{error}</p>}
    </div>
  );
}

function AccountSettingsForm({ account, onSaved, onCancel }) {
  const settings = account.settings || {};
  const [values, setValues] = useState(() => ({
    conflict_policy: settings.conflict_policy,
    google_deletions: settings.google_deletions,
    atarys_deletions: settings.atarys_deletions,
    import_scope: settings.import_scope,
    auto_sync_minutes: settings.auto_sync_minutes ?? 60,
  }));
  const [filter, setFilter] = useState(() => ({ ...(account.client_filter || {}) }));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // a narrower filter takes contacts off the phone: the API names them, a person confirms
  const [leaving, setLeaving] = useState(null);
  const errors = fieldErrors(error);
  const set = (key) => (value) => setValues((v) => ({ ...v, [key]: value }));

  const save = async (confirmRemovals) => {
    setBusy(true);
    setError(null);
    const minutes = Number(values.auto_sync_minutes);
    try {
      await api.put(paths.account(account.id), {
        ...values,
        auto_sync_minutes: Number.isFinite(minutes) ? minutes : values.auto_sync_minutes,
        client_filter: filterBody(filter),
        ...(confirmRemovals ? { confirm_removals: true } : {}),
      });
      setLeaving(null);
      onSaved(`Réglages du téléphone ${account.email} enregistrés.`);
    } catch (err) {
      if (err.status === 409 && err.data?.reason === "filter_removes") setLeaving(err);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event) => {
    event.preventDefault();
    save(false);
  };

  return (
    <form onSubmit={submit} aria-label={`Réglages de ${account.email}`} className="mt-3 space-y-4 border-t border-slate-200 pt-3">
      <fieldset>
        <legend className="text-sm font-semibold">Clients envoyés sur ce téléphone</legend>
        <p className="mt-1 text-xs text-slate-600">Laissez tout vide pour envoyer tous les clients ; sinon seuls les clients qui correspondent à chaque champ rempli.</p>
        <div className="mt-2 grid grid-cols-1 gap-3 sm:grid-cols-2">
          {FILTER_FIELDS.map(([key, label]) => (
            <Field
              key={key}
              label={label}
              name={key}
              value={filter[key] ?? ""}
              onChange={(value) => setFilter((f) => ({ ...f, [key]: value }))}
              error={errors[key]}
              hint={HINTS[key]}
            />
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend className="text-sm font-semibold">Règles de synchronisation de ce téléphone</legend>
        <div className="mt-2 grid grid-cols-1 gap-3 sm:grid-cols-2">
          {SELECTS.map(([key, label, options, labels]) => (
            <Select key={key} label={label} value={values[key]} options={options} labels={labels} onChange={set(key)} error={errors[key]} />
          ))}
          <Field
            label="Synchronisation automatique, en minutes"
            hint="Toutes les combien de minutes ce téléphone et ATARYS se synchronisent seuls ; 0 : seulement à la main."
            name="auto_sync_minutes"
            type="number"
            min="0"
            value={values.auto_sync_minutes}
            onChange={set("auto_sync_minutes")}
            error={errors.auto_sync_minutes}
          />
        </div>
      </fieldset>
      <ErrorNotice error={error} />
      {leaving && (
        <ConfirmDialog
          title={`Retirer ${leaving.data.leaving} contact${leaving.data.leaving > 1 ? "s" : ""} de ce téléphone ?`}
          confirmLabel="Appliquer le filtre"
          busy={busy}
          onConfirm={() => save(true)}
          onCancel={() => setLeaving(null)}
        >
          <p>{leaving.message}</p>
        </ConfirmDialog>
      )}
      <div className="flex flex-wrap justify-end gap-2">
        <Button variant="secondary" onClick={onCancel}>
          Annuler
        </Button>
        <Button type="submit" disabled={busy}>
          {busy ? "Enregistrement…" : "Enregistrer les réglages"}
        </Button>
      </div>
    </form>
  );
}

function AccountCard({ account, onChanged }) {
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [info, setInfo] = useState(null);
  const state = accountState(account);

  const disconnect = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.del(paths.account(account.id));
      setConfirm(false);
      onChanged(`Le téléphone ${account.email} est déconnecté : ses contacts restent sur le téléphone, ATARYS ne les synchronise plus.`);
    } catch (err) {
      setConfirm(false);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="account" data-email={account.email}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 className="flex flex-wrap items-center gap-2 text-base font-semibold break-all">
          {account.email}
          <Badge tone={state.tone}>{state.label}</Badge>
          {account.mode === "workspace" && <Badge tone="purple">Google Workspace</Badge>}
        </h2>
        <div className="flex flex-wrap gap-2">
          {!editing && (
            <Button variant="secondary" onClick={() => setEditing(true)}>
              Modifier les réglages
            </Button>
          )}
          <Button variant="secondary" onClick={() => setConfirm(true)} disabled={busy}>
            Déconnecter
          </Button>
        </div>
      </div>
      <dl className="mt-3 grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-[auto_1fr]">
        <dt className="text-slate-600">Dernière synchronisation</dt>
        <dd>{lastRunText(account.last_run)}</dd>
        <dt className="text-slate-600">Prochaine synchronisation</dt>
        <dd>{nextRunText(account)}</dd>
        <dt className="text-slate-600">Clients sur ce téléphone</dt>
        <dd data-testid="account-filter">
          {filterText(account.client_filter)}
          {Number.isFinite(account.linked_count) && (
            <span className="text-slate-600">
              {" "}
              ({account.linked_count} client{account.linked_count > 1 ? "s" : ""} synchronisé{account.linked_count > 1 ? "s" : ""})
            </span>
          )}
        </dd>
        <dt className="text-slate-600">En cas de conflit</dt>
        <dd>{POLICY_LABELS[account.settings && account.settings.conflict_policy] || "—"}</dd>
      </dl>
      {account.state === "first_sync_pending" && (
        <Notice tone="warning" className="mt-3">
          Rien n'a encore été écrit sur ce téléphone : la première synchronisation attend d'être vérifiée et appliquée depuis la page Google Contacts.
        </Notice>
      )}
      {account.last_error && (
        <Notice tone="warning" title="Dernière erreur" className="mt-3">
          {account.last_error}
        </Notice>
      )}
      {info && (
        <Notice tone="success" className="mt-3">
          {info}
        </Notice>
      )}
      <ErrorNotice error={error} className="mt-3" />
      {editing && (
        <AccountSettingsForm
          account={account}
          onCancel={() => setEditing(false)}
          onSaved={(text) => {
            setEditing(false);
            setInfo(text);
            onChanged(null);
          }}
        />
      )}
      {confirm && (
        <ConfirmDialog
          title={`Déconnecter ${account.email} ?`}
          confirmLabel="Déconnecter ce téléphone"
          busy={busy}
          onConfirm={disconnect}
          onCancel={() => setConfirm(false)}
        >
          <p>
            ATARYS ne synchronisera plus les contacts du compte Google <strong>{account.email}</strong>. Les contacts déjà sur ce téléphone y
            restent, et les clients restent dans ATARYS.
          </p>
          <p className="mt-2">Pour le reconnecter plus tard : « Connecter un autre téléphone ».</p>
        </ConfirmDialog>
      )}
    </li>
  );
}

function ConnectDialog({ onClose }) {
  const [email, setEmail] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const hint = email.trim();
      const res = await api.post(paths.auth, hint ? { login_hint: hint } : {});
      const url = res.data && res.data.authorization_url;
      if (url) {
        window.location.assign(url);
        return;
      }
      onClose(res.message || "Le téléphone est connecté.");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title="Connecter un autre téléphone" onClose={() => onClose(null)}>
      <form onSubmit={submit} className="space-y-3">
        <p className="text-sm text-slate-700">
          Google va demander à la personne de se connecter à son compte puis d'autoriser ATARYS à gérer ses contacts. Faites-le depuis son
          ordinateur ou son téléphone, ou indiquez son adresse pour que Google la propose d'office.
        </p>
        <Field
          label="Adresse e-mail du compte Google (facultatif)"
          name="login_hint"
          type="email"
          autoComplete="off"
          value={email}
          onChange={setEmail}
          error={fieldErrors(error).login_hint}
          hint="Par exemple chantier@exemple.fr"
        />
        <ErrorNotice error={error} />
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => onClose(null)}>
            Annuler
          </Button>
          <Button type="submit" disabled={busy}>
            {busy ? "Ouverture de Google…" : "Continuer vers Google"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** Google Workspace (admins): the service account key, and the staff it acts as. */
export function WorkspaceSection() {
  const [workspace, setWorkspace] = useState(undefined); // undefined: loading; null: hidden
  const [error, setError] = useState(null);
  const [info, setInfo] = useState(null);
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const fileId = useId();

  const load = useCallback(() => {
    api
      .get(paths.workspace)
      .then((res) => setWorkspace(res.data || { configured: false, users: [] }))
      .catch((err) => {
        // Not an admin (403) or not on this server (404): the section is not shown.
        if (err.status === 403 || err.status === 404 || err.status === 405) setWorkspace(null);
        else {
          setWorkspace({ configured: false, users: [] });
          setError(err);
        }
      });
  }, []);
  useEffect(load, [load]);

  const act = async (work, done) => {
    setBusy(true);
    setError(null);
    setInfo(null);
    try {
      const res = await work();
      if (res && res.data && typeof res.data === "object" && !Array.isArray(res.data) && "configured" in res.data) setWorkspace(res.data);
      else load();
      setInfo(done);
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const upload = async (event) => {
    const file = event.target.files && event.target.files[0];
    event.target.value = "";
    if (!file) return;
    let key;
    try {
      key = JSON.parse(await file.text());
    } catch {
      setInfo(null);
      setError({
        status: 422,
        message: `Le fichier « ${file.name} » n'est pas une clé de compte de service : choisissez le fichier .json téléchargé depuis la console Google Cloud (Comptes de service › Clés).`,
      });
      return;
    }
    await act(() => api.put(paths.workspace, key), "Clé du compte de service enregistrée.");
  };

  const addUser = async (event) => {
    event.preventDefault();
    const value = email.trim();
    if (!value) return;
    if (await act(() => api.post(paths.workspaceUsers, { email: value }), `${value} ajouté : ATARYS synchronise maintenant ses contacts.`)) setEmail("");
  };

  if (workspace === undefined || workspace === null) return null;
  const users = Array.isArray(workspace.users) ? workspace.users : [];
  return (
    <Card id="workspace" title="Google Workspace">
      <p className="text-sm text-slate-700">
        Avec Google Workspace, un administrateur installe une fois la clé d'un compte de service (avec délégation au niveau du domaine) : ATARYS
        synchronise alors les contacts de chaque personne ajoutée ci-dessous, sans qu'elle ait à autoriser quoi que ce soit.
      </p>
      {error && (error instanceof Error ? <ErrorNotice error={error} className="mt-3" /> : (
        <Notice tone="error" className="mt-3" title="Clé refusée">
          {error.message}
        </Notice>
      ))}
      {info && (
        <Notice tone="success" className="mt-3">
          {info}
        </Notice>
      )}
      <div className="mt-3 text-sm" data-testid="workspace-key">
        {workspace.configured ? (
          <p>
            Clé installée : compte de service <strong className="break-all">{workspace.client_email}</strong>
            {workspace.domain && <> pour le domaine <strong>{workspace.domain}</strong></>}.
          </p>
        ) : (
          <p>Aucune clé de compte de service installée.</p>
        )}
      </div>
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <label htmlFor={fileId} className="text-sm font-medium">
          {workspace.configured ? "Remplacer la clé (fichier JSON)" : "Clé du compte de service (fichier JSON)"}
        </label>
        {/* The browser's own file button speaks its language (« Choose File »): ours speaks French. */}
        <input id={fileId} type="file" accept="application/json,.json" onChange={upload} disabled={busy} className="peer sr-only" />
        <label
          htmlFor={fileId}
          aria-hidden="true"
          className="inline-flex cursor-pointer items-center rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-800 hover:bg-slate-100 peer-focus-visible:ring-2 peer-focus-visible:ring-blue-600 peer-disabled:cursor-not-allowed peer-disabled:text-slate-400"
        >
          Choisir le fichier…
        </label>
        {workspace.configured && (
          <Button variant="secondary" onClick={() => setConfirmRemove(true)} disabled={busy}>
            Retirer la clé
          </Button>
        )}
      </div>
      {workspace.configured && (
        <div className="mt-4">
          <h3 className="text-sm font-semibold">Personnes synchronisées par le compte de service</h3>
          {users.length === 0 ? (
            <p className="mt-1 text-sm text-slate-600">Personne pour l'instant : ajoutez l'adresse de chaque membre de l'équipe.</p>
          ) : (
            <ul className="mt-1 divide-y divide-slate-100 text-sm">
              {users.map((u) => (
                <li key={u} className="flex flex-wrap items-center justify-between gap-2 py-1">
                  <span className="break-all">{u}</span>
                  <Button
                    variant="ghost"
                    disabled={busy}
                    aria-label={`Retirer ${u}`}
                    onClick={() => act(() => api.del(paths.workspaceUser(u)), `${u} retiré : ses contacts ne sont plus synchronisés.`)}
                  >
                    Retirer
                  </Button>
                </li>
              ))}
            </ul>
          )}
          <form onSubmit={addUser} className="mt-2 flex flex-wrap items-end gap-2">
            <div className="min-w-0 flex-1">
              <Field label="Adresse e-mail à ajouter" name="workspace_email" type="email" value={email} onChange={setEmail} error={fieldErrors(error).email} />
            </div>
            <Button type="submit" disabled={busy || !email.trim()}>
              Ajouter
            </Button>
          </form>
        </div>
      )}
      {confirmRemove && (
        <ConfirmDialog
          title="Retirer la clé du compte de service ?"
          confirmLabel="Retirer la clé"
          onCancel={() => setConfirmRemove(false)}
          onConfirm={() => {
            setConfirmRemove(false);
            act(() => api.del(paths.workspace), "Clé retirée : les comptes Google Workspace ne sont plus synchronisés.");
          }}
        >
          <p>ATARYS ne pourra plus synchroniser les contacts des personnes ajoutées via Google Workspace.</p>
        </ConfirmDialog>
      )}
    </Card>
  );
}

export default function PhonesPage() {
  const [accounts, setAccounts] = useState(null);
  const [error, setError] = useState(null);
  const [connecting, setConnecting] = useState(false);
  const [info, setInfo] = useState(null);

  const load = useCallback(() => {
    api
      .get(paths.accounts)
      .then((res) => {
        const data = res.data || {};
        setAccounts(Array.isArray(data.accounts) ? data.accounts : Array.isArray(data) ? data : []);
        setError(null);
      })
      .catch((err) => {
        setAccounts([]);
        setError(err);
      });
  }, []);
  useEffect(load, [load]);

  const changed = (text) => {
    if (text) setInfo(text);
    load();
  };

  return (
    <div>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">Téléphones de l'équipe</h1>
        <Button onClick={() => setConnecting(true)}>Connecter un autre téléphone</Button>
      </div>
      <p className="mt-2 text-sm text-slate-700">
        Chaque compte Google relié à ATARYS reçoit les clients de son filtre ; ce qui est saisi sur un téléphone arrive dans ATARYS puis sur les
        autres téléphones concernés.
      </p>
      {info && (
        <Notice tone="success" className="mt-3">
          {info}
        </Notice>
      )}
      {error && error.status === 404 ? (
        <Notice tone="info" className="mt-3">
          Cette page n'est pas encore disponible sur ce serveur : la connexion de Google se gère dans la page Google Contacts.
        </Notice>
      ) : (
        <ErrorNotice error={error} className="mt-3" />
      )}
      {accounts === null && (
        <p role="status" className="mt-4 text-sm text-slate-600">
          Chargement des téléphones…
        </p>
      )}
      {accounts && accounts.length === 0 && !error && (
        <p className="mt-4 text-sm text-slate-600">Aucun téléphone n'est encore relié à ATARYS : cliquez sur « Connecter un autre téléphone ».</p>
      )}
      {accounts && accounts.length > 0 && (
        <ul className="mt-4 space-y-3" aria-label="Comptes Google reliés">
          {accounts.map((a) => (
            <AccountCard key={a.id} account={a} onChanged={changed} />
          ))}
        </ul>
      )}
      <div className="mt-6">
        <WorkspaceSection />
      </div>
      {connecting && (
        <ConnectDialog
          onClose={(text) => {
            setConnecting(false);
            changed(text);
          }}
        />
      )}
    </div>
  );
}
