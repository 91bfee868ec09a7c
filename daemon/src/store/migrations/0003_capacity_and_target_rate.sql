CREATE TABLE `capacity_probes` (
	`search_id` text NOT NULL,
	`idx` integer NOT NULL,
	`run_id` text NOT NULL,
	`rate` real NOT NULL,
	`ok` integer NOT NULL,
	`limit` text,
	`point` text NOT NULL,
	PRIMARY KEY(`search_id`, `idx`)
);
--> statement-breakpoint
CREATE INDEX `capacity_probes_run` ON `capacity_probes` (`run_id`);--> statement-breakpoint
CREATE TABLE `capacity_searches` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	`options` text NOT NULL,
	`scenario` text NOT NULL,
	`result` text,
	`error` text,
	`owner` text
);
--> statement-breakpoint
CREATE INDEX `capacity_searches_created` ON `capacity_searches` ("created_at" desc);--> statement-breakpoint
ALTER TABLE `series` ADD `target_rate` real;