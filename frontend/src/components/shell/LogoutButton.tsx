"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { Button, useToast } from "@/components/ui";
import { useApiClient } from "@/lib/api/context";
import { describeError } from "@/lib/errors";
import { paths } from "@/lib/paths";

export function LogoutButton() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [isLoggingOut, setIsLoggingOut] = useState(false);

  async function logout() {
    setIsLoggingOut(true);
    try {
      await client.logout();
      queryClient.clear();
      // A full load: nothing of this session stays in memory.
      window.location.assign(paths.login);
    } catch (error) {
      toast.show(`Logging out failed. ${describeError(error).message}`, "error");
      setIsLoggingOut(false);
    }
  }

  return (
    <Button variant="secondary" size="sm" onClick={() => void logout()} isLoading={isLoggingOut}>
      Log out
    </Button>
  );
}
