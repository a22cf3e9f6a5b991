/**
 * A three-state field for patches, as Codex's `ClearableField`: key absent = leave the value
 * unchanged, `null` = clear it, a value = set it. Declare it as an optional property
 * (`name?: ClearableField<string>`); with `exactOptionalPropertyTypes` an explicit `undefined`
 * is refused, so "absent" survives JSON end to end.
 */
export type ClearableField<T> = T | null;
