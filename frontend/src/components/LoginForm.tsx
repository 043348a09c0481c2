"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useId, useState, type FormEvent } from "react";

import { AllauthError } from "@/lib/api/allauth";
import { useApiClient } from "@/lib/api/context";

const inputClassName =
  "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-xs focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500/40 aria-invalid:border-rose-500";

export function LoginForm() {
  const id = useId();
  const router = useRouter();
  const client = useApiClient();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<readonly string[]>([]);
  const [isSubmitting, setIsSubmitting] = useState(false);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setErrors([]);
    setIsSubmitting(true);
    try {
      await client.login({ email: email.trim(), password });
      queryClient.clear();
      router.replace("/");
    } catch (error) {
      setErrors(
        error instanceof AllauthError
          ? error.messages
          : ["The server could not be reached. Check your connection and try again."],
      );
      setIsSubmitting(false);
    }
  }

  const errorId = `${id}-errors`;
  const hasErrors = errors.length > 0;

  return (
    <form noValidate onSubmit={handleSubmit} className="space-y-4" aria-describedby={hasErrors ? errorId : undefined}>
      {hasErrors ? (
        <div id={errorId} role="alert" className="rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800">
          {errors.map((message) => (
            <p key={message}>{message}</p>
          ))}
        </div>
      ) : null}
      <div>
        <label htmlFor={`${id}-email`} className="mb-1 block text-sm font-medium text-slate-800">
          Email
        </label>
        <input
          id={`${id}-email`}
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          aria-invalid={hasErrors ? true : undefined}
          className={inputClassName}
        />
      </div>
      <div>
        <label htmlFor={`${id}-password`} className="mb-1 block text-sm font-medium text-slate-800">
          Password
        </label>
        <input
          id={`${id}-password`}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          aria-invalid={hasErrors ? true : undefined}
          className={inputClassName}
        />
      </div>
      <button
        type="submit"
        disabled={isSubmitting}
        className="w-full rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-wait disabled:opacity-60"
      >
        Log in
      </button>
    </form>
  );
}
