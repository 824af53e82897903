// Who is logged in: asks /api/auth/me once, keeps the CSRF token, shows login on 401.
import { createContext, useCallback, useContext, useEffect, useState } from "react";
import { api, clearCsrfToken, paths, setCsrfToken, setUnauthorizedHandler } from "./api.js";

const AuthContext = createContext(null);

function userOf(data) {
  if (!data || typeof data !== "object") return null;
  if (data.user && typeof data.user === "object") return data.user;
  return data;
}

export function AuthProvider({ children }) {
  // undefined: not known yet; null: logged out; object: the user.
  const [user, setUser] = useState(undefined);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      clearCsrfToken();
      setUser(null);
    });
    let alive = true;
    api
      .get(paths.me)
      .then((res) => {
        if (!alive) return;
        if (res.data && res.data.csrf_token) setCsrfToken(res.data.csrf_token);
        setUser(userOf(res.data) || {});
      })
      .catch(() => alive && setUser(null));
    return () => {
      alive = false;
      setUnauthorizedHandler(null);
    };
  }, []);

  const login = useCallback(async (username, password) => {
    const res = await api.post(paths.login, { username, password });
    if (res.data && res.data.csrf_token) setCsrfToken(res.data.csrf_token);
    let current = userOf(res.data);
    try {
      const me = await api.get(paths.me);
      current = userOf(me.data) || current;
    } catch {
      // The login answer is enough to go on.
    }
    setUser(current || { username });
  }, []);

  const logout = useCallback(async () => {
    try {
      await api.post(paths.logout, {});
    } finally {
      clearCsrfToken();
      setUser(null);
    }
  }, []);

  return <AuthContext.Provider value={{ user, login, logout }}>{children}</AuthContext.Provider>;
}

export function useAuth() {
  return useContext(AuthContext);
}
