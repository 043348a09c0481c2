import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { TasksScreen } from "@/components/TasksScreen";
import { getSessionState } from "@/lib/server/session";

export const metadata: Metadata = { title: { absolute: "Tasks · Taskscore" } };

export default async function TasksPage() {
  if ((await getSessionState()) === "anonymous") redirect("/login");
  return <TasksScreen />;
}
