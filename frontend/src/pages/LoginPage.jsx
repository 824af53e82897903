import { useEffect, useState } from "react";
import { api } from "../lib/api.js";
import { useAuth } from "../lib/auth.jsx";
import { Button, ErrorNotice, Field, Notice } from "../components/ui.jsx";

export default function LoginPage() {
  const { login } = useAuth();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [demo, setDemo] = useState(false);

  // In demo mode (when the health check says so) tell where the demo password is.
  useEffect(() => {
    api
      .get("/api/health")
      .then((res) => setDemo(Boolean(res.data && res.data.demo)))
      .catch(() => {});
  }, []);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const wrongCredentials = error && (error.status === 401 || error.status === 400 || error.status === 422);
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-10">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <h1 className="text-2xl font-bold text-blue-800">ATARYS</h1>
        <p className="mt-1 text-sm text-slate-600">Connectez-vous pour gérer vos clients et leur synchronisation avec Google Contacts.</p>
        {demo && (
          <Notice tone="info" className="mt-4" title="Démonstration">
            Identifiant « demo » ; le mot de passe est affiché dans le terminal qui a lancé « make run ».
          </Notice>
        )}
        <form onSubmit={submit} className="mt-6 space-y-4" noValidate>
          <Field label="Identifiant" name="username" value={username} onChange={setUsername} autoComplete="username" required />
          <Field label="Mot de passe" name="password" type="password" value={password} onChange={setPassword} autoComplete="current-password" required />
          {wrongCredentials && (
            <Notice tone="error" title="Connexion refusée">
              {error.message || "Identifiant ou mot de passe incorrect."}
            </Notice>
          )}
          {error && !wrongCredentials && <ErrorNotice error={error} />}
          <Button type="submit" className="w-full" disabled={busy || !username || !password}>
            {busy ? "Connexion…" : "Se connecter"}
          </Button>
        </form>
      </div>
    </main>
  );
}
