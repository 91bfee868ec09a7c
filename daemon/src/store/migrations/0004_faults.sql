CREATE TABLE `fault_commands` (
	`run_id` text NOT NULL,
	`kind` text NOT NULL,
	`idx` integer NOT NULL,
	`name` text NOT NULL,
	`command` text NOT NULL,
	`at_s` real,
	`start_us` real NOT NULL,
	`end_us` real NOT NULL,
	`duration_ms` real NOT NULL,
	`exit_code` integer,
	`signal` text,
	`timed_out` integer NOT NULL,
	`output` text NOT NULL,
	`output_dropped` integer NOT NULL,
	`error` text,
	PRIMARY KEY(`run_id`, `kind`, `idx`)
);
