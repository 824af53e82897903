// The Google connection: status in plain words, connect (OAuth redirect), disconnect, setup guide.
import { useEffect, useRef, useState } from "react";
import { api, paths } from "../lib/api.js";
import { formatDate } from "../lib/format.js";
import { Badge, Button, Card, ConfirmDialog, ErrorNotice, Notice } from "./ui.jsx";

/** What the status means for a person: `{tone, label, text}`. */
export function describeStatus(status) {
  if (!status) return { tone: "slate", label: "Vérification…", text: "Vérification de la connexion à Google…", loading: true };
  const problem = status.problem || status.error || null;
  if (status.authenticated && status.service_available !== false) {
    return {
      tone: "green",
      label: "Connecté",
      text: status.account || status.email
        ? `ATARYS est connecté au compte Google ${status.account || status.email}.`
        : "ATARYS est connecté à Google Contacts.",
      problem,
    };
  }
  if (status.authenticated && status.service_available === false) {
    return {
      tone: "amber",
      label: "Google injoignable",
      text: "ATARYS est autorisé, mais Google Contacts ne répond pas pour l'instant. Réessayez dans quelques minutes.",
      problem,
    };
  }
  if (status.credentials_file_exists === false) {
    return {
      tone: "amber",
      label: "Configuration incomplète",
      text: "Le fichier d'identifiants Google n'est pas installé sur ce serveur : suivez le guide de configuration ci-dessous.",
      problem,
    };
  }
  if (status.legacy_token_file_exists && !status.token_file_exists) {
    return {
      tone: "amber",
      label: "À reconnecter",
      text: "Un ancien fichier de jeton (format pickle) a été trouvé ; par sécurité il n'est pas utilisé. Cliquez sur « Connecter Google » pour autoriser ATARYS à nouveau.",
      problem,
    };
  }
  if (status.token_revoked || status.token_status === "revoked" || (problem && /révoqu|revoked/i.test(problem))) {
    return {
      tone: "red",
      label: "Accès révoqué",
      text: "Google a retiré l'autorisation d'ATARYS. Cliquez sur « Connecter Google » pour l'autoriser à nouveau.",
      problem,
    };
  }
  if (status.token_file_exists) {
    return {
      tone: "amber",
      label: "À reconnecter",
      text: "L'autorisation Google n'est plus valable. Cliquez sur « Connecter Google » pour la renouveler.",
      problem,
    };
  }
  return {
    tone: "slate",
    label: "Non connecté",
    text: "ATARYS n'est pas encore connecté à Google. Cliquez sur « Connecter Google » : une page Google vous demandera d'autoriser l'accès à vos contacts.",
    problem,
  };
}

function lastRunText(status) {
  const last = status && (status.last_run || status.last_sync);
  if (!last) return "Aucune synchronisation pour l'instant.";
  if (typeof last === "string") return `Dernière synchronisation : ${formatDate(last)}.`;
  const when = formatDate(last.finished_at || last.started_at || last.at);
  if (String(last.status || "").toLowerCase() === "running") return `Synchronisation en cours depuis ${when} (voir la carte Synchronisation).`;
  const state = String(last.status || "success").toLowerCase();
  const suffix =
    {
      partial: " (avec des erreurs)",
      failed: " (en échec)",
      refused: " (bloquée par sécurité)",
    }[state] || "";
  return `Dernière synchronisation : ${when}${suffix}.`;
}

function nextRunText(status) {
  const next = status && (status.next_run || status.next_sync);
  if (!next) return null;
  if (typeof next === "object" && (next.enabled === false || next.auto_sync_minutes === 0)) {
    return "Synchronisation automatique désactivée (voir les réglages).";
  }
  const when = typeof next === "string" ? next : next.at || next.sync_at || next.run_at || next.next_run_time || next.next_run_at;
  if (when) return `Prochaine synchronisation automatique : ${formatDate(when)}.`;
  if (typeof next === "object" && next.auto_sync_minutes) {
    const every = `Synchronisation automatique toutes les ${next.auto_sync_minutes} minutes`;
    return next.scheduler_running === false ? `${every}, mais elle est arrêtée sur ce serveur : seules les synchronisations lancées à la main ont lieu.` : `${every}.`;
  }
  return null;
}

export function SetupGuide({ setup, open }) {
  if (!setup) return null;
  const steps = Array.isArray(setup.steps) ? setup.steps : [];
  const missing = Array.isArray(setup.missing) ? setup.missing : setup.missing ? [setup.missing] : [];
  return (
    <details className="mt-4 rounded-md border border-slate-200" open={open}>
      <summary className="cursor-pointer px-3 py-2 text-sm font-medium">Guide de configuration de Google</summary>
      <div className="border-t border-slate-100 px-3 py-3 text-sm">
        {missing.length > 0 && (
          <Notice tone="warning" title="Il manque sur cette installation :" className="mb-3">
            <ul className="list-disc pl-5">
              {missing.map((m, i) => (
                <li key={i}>{typeof m === "string" ? m : m.description || m.title || m.file || JSON.stringify(m)}</li>
              ))}
            </ul>
          </Notice>
        )}
        <ol className="list-decimal space-y-2 pl-5">
          {steps.map((s, i) => (
            <li key={s.step ?? i}>
              <span className="font-medium">{s.title}</span>
              {s.description && <span className="block text-slate-700">{s.description}</span>}
              {s.url && (
                <a href={s.url} target="_blank" rel="noreferrer" className="text-blue-700 underline break-all">
                  {s.url}
                </a>
              )}
            </li>
          ))}
        </ol>
        {Array.isArray(setup.required_files) && setup.required_files.length > 0 && (
          <p className="mt-3">
            Fichiers nécessaires :{" "}
            {setup.required_files.map((f, i) => (
              <code key={i} className="mr-2 rounded bg-slate-100 px-1">
                {typeof f === "string" ? f : f.path || JSON.stringify(f)}
              </code>
            ))}
          </p>
        )}
        {Array.isArray(setup.scopes) && setup.scopes.length > 0 && (
          <p className="mt-2">
            Autorisation demandée : <code className="rounded bg-slate-100 px-1 break-all">{setup.scopes.join(", ")}</code>
          </p>
        )}
      </div>
    </details>
  );
}

export default function ConnectionCard({ status, setup, error, onChanged, returnNotice }) {
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState(null);
  const [confirm, setConfirm] = useState(false);
  const [info, setInfo] = useState(null);
  const described = describeStatus(status);
  const connected = Boolean(status && status.authenticated);
  const lastRunId = status && status.last_run && typeof status.last_run === "object" ? status.last_run.id : null;

  // "Google est connecté." and the like are news only until the next run.
  const seenRun = useRef(null);
  useEffect(() => {
    if (lastRunId === null) return;
    if (seenRun.current !== null && seenRun.current !== lastRunId) {
      setInfo(null);
      setActionError(null);
    }
    seenRun.current = lastRunId;
  }, [lastRunId]);

  const connect = async () => {
    setBusy(true);
    setActionError(null);
    setInfo(null);
    try {
      const res = await api.post(paths.auth, {});
      const data = res.data || {};
      if (data.authorization_url) {
        window.location.assign(data.authorization_url);
        return;
      }
      setInfo(res.message || "Google est connecté.");
      onChanged();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  const disconnect = async () => {
    setConfirm(false);
    setBusy(true);
    setActionError(null);
    try {
      const res = await api.post(paths.disconnect, {});
      setInfo(res.message || "Google est déconnecté.");
      onChanged();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  const nextRun = nextRunText(status);
  return (
    <Card
      id="connexion"
      title="Connexion à Google"
      actions={
        connected ? (
          <Button variant="secondary" onClick={() => setConfirm(true)} disabled={busy}>
            Déconnecter Google
          </Button>
        ) : described.loading ? null : (
          <Button onClick={connect} disabled={busy || (status && status.credentials_file_exists === false)}>
            {busy ? "Connexion…" : "Connecter Google"}
          </Button>
        )
      }
    >
      {returnNotice}
      <div className="flex flex-wrap items-center gap-2" data-testid="connection-status">
        <Badge tone={described.tone}>{described.label}</Badge>
        <p className="text-sm">{described.text}</p>
      </div>
      {described.problem && (
        <Notice tone="warning" className="mt-3" title="À savoir">
          {described.problem}
        </Notice>
      )}
      {status && (
        <ul className="mt-3 space-y-1 text-sm text-slate-700">
          <li>{lastRunText(status)}</li>
          {nextRun && <li>{nextRun}</li>}
        </ul>
      )}
      {info && (
        <Notice tone="success" className="mt-3">
          {info}
        </Notice>
      )}
      <ErrorNotice error={error || actionError} className="mt-3" />
      <SetupGuide setup={setup} open={!connected && status && status.credentials_file_exists === false} />
      {confirm && (
        <ConfirmDialog title="Déconnecter Google ?" confirmLabel="Déconnecter Google" onConfirm={disconnect} onCancel={() => setConfirm(false)}>
          <p>
            ATARYS n'aura plus accès à vos contacts Google et la synchronisation automatique s'arrêtera. Vos clients et vos
            contacts ne sont pas supprimés. Vous pourrez reconnecter Google à tout moment.
          </p>
        </ConfirmDialog>
      )}
    </Card>
  );
}
