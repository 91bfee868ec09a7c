CREATE TABLE `device_figures` (
	`run_id` text NOT NULL,
	`device` integer NOT NULL,
	`sent` integer NOT NULL,
	`received` integer NOT NULL,
	`lost` integer NOT NULL,
	`undelivered` integer NOT NULL,
	`duplicates` integer NOT NULL,
	`reordered` integer NOT NULL,
	`count` integer NOT NULL,
	`p50` real NOT NULL,
	`p99` real NOT NULL,
	`max` real NOT NULL,
	PRIMARY KEY(`run_id`, `device`)
);
