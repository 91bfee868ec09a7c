ALTER TABLE `series` ADD `disconnects` integer;--> statement-breakpoint
ALTER TABLE `series` ADD `reconnects` integer;--> statement-breakpoint
ALTER TABLE `series` ADD `lag_p99` real;--> statement-breakpoint
ALTER TABLE `series` ADD `lag_max` real;--> statement-breakpoint
ALTER TABLE `series` ADD `loop_delay_p99` real;--> statement-breakpoint
ALTER TABLE `series` ADD `loop_delay_max` real;--> statement-breakpoint
ALTER TABLE `series` ADD `in_flight_peak` integer;