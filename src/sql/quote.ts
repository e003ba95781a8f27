/** Printing names and strings into DuckDB SQL: always quoted, so no user text is ever read as SQL. */

export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export const quoteString = (value: string): string => `'${value.replaceAll("'", "''")}'`;
