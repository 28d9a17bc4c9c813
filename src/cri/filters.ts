// Filters shared by the List* RPCs: id prefix, state and label selector.

export function matchesLabels(
  labels: Record<string, string>,
  selector: Record<string, string> | null | undefined,
): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function matchesIdPrefix(id: string, wanted: string | null | undefined): boolean {
  return !wanted || id.startsWith(wanted);
}
