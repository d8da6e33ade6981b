WITH `t7` AS (
  SELECT
    *
  FROM (
    SELECT
      `t5`.`experiment_key`,
      `t5`.`unit_id`,
      MIN(`t5`.`timestamp`) AS `entry_ts`,
      COUNT(DISTINCT `t5`.`variant_key`) AS `n_variants`,
      MIN(`t5`.`variant_key`) AS `variant_key`,
      MIN_BY(`t5`.`country`, `t5`.`timestamp`) AS `country`,
      MIN_BY(`t5`.`platform`, `t5`.`timestamp`) AS `platform`,
      MAX(`t5`.`exp_end`) AS `exp_end`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t0`.`experiment_key`,
          `t0`.`variant_key`,
          `t0`.`unit_id`,
          `t0`.`timestamp`,
          `t0`.`country`,
          `t0`.`platform`,
          CASE
            WHEN `t0`.`experiment_key` = 'price-discount-10'
            THEN TIMESTAMP('2026-01-31T00:00:00+00:00')
            WHEN `t0`.`experiment_key` = 'msg-email-subject'
            THEN TIMESTAMP('2026-05-21T00:00:00+00:00')
            ELSE TIMESTAMP('2200-01-01T00:00:00+00:00')
          END AS `exp_start`,
          CASE
            WHEN `t0`.`experiment_key` = 'price-discount-10'
            THEN TIMESTAMP('2026-03-14T00:00:00+00:00')
            WHEN `t0`.`experiment_key` = 'msg-email-subject'
            THEN TIMESTAMP('2200-01-01T00:00:00+00:00')
            ELSE TIMESTAMP('2200-01-01T00:00:00+00:00')
          END AS `exp_end`
        FROM `exposures` AS `t0`
        WHERE
          `t0`.`experiment_key` IN ('price-discount-10', 'msg-email-subject')
      ) AS `t3`
      WHERE
        `t3`.`timestamp` >= `t3`.`exp_start` AND `t3`.`timestamp` < `t3`.`exp_end`
    ) AS `t5`
    GROUP BY
      1,
      2
  ) AS `t6`
  WHERE
    `t6`.`n_variants` = 1
)
SELECT
  `t15`.`experiment_key`,
  `t15`.`variant_key`,
  COUNT(*) AS `n`,
  SUM(`t15`.`x0_0`) AS `s0_0`,
  SUM(`t15`.`x0_1`) AS `s0_1`,
  SUM(`t15`.`x0_0` * `t15`.`x0_0`) AS `q0_0_0`,
  SUM(`t15`.`x0_0` * `t15`.`x0_1`) AS `q0_0_1`,
  SUM(`t15`.`x0_1` * `t15`.`x0_1`) AS `q0_1_1`,
  SUM(`t15`.`x1_0`) AS `s1_0`,
  SUM(`t15`.`x1_1`) AS `s1_1`,
  SUM(`t15`.`x1_0` * `t15`.`x1_0`) AS `q1_0_0`,
  SUM(`t15`.`x1_0` * `t15`.`x1_1`) AS `q1_0_1`,
  SUM(`t15`.`x1_1` * `t15`.`x1_1`) AS `q1_1_1`,
  SUM(`t15`.`x2_0`) AS `s2_0`,
  SUM(`t15`.`x2_1`) AS `s2_1`,
  SUM(`t15`.`x2_0` * `t15`.`x2_0`) AS `q2_0_0`,
  SUM(`t15`.`x2_0` * `t15`.`x2_1`) AS `q2_0_1`,
  SUM(`t15`.`x2_1` * `t15`.`x2_1`) AS `q2_1_1`,
  SUM(`t15`.`x3_0`) AS `s3_0`,
  SUM(`t15`.`x3_0` * `t15`.`x3_0`) AS `q3_0_0`,
  SUM(`t15`.`x4_0`) AS `s4_0`,
  SUM(`t15`.`x4_1`) AS `s4_1`,
  SUM(`t15`.`x4_0` * `t15`.`x4_0`) AS `q4_0_0`,
  SUM(`t15`.`x4_0` * `t15`.`x4_1`) AS `q4_0_1`,
  SUM(`t15`.`x4_1` * `t15`.`x4_1`) AS `q4_1_1`
FROM (
  SELECT
    `t14`.`experiment_key`,
    `t14`.`unit_id`,
    `t14`.`variant_key`,
    `t14`.`country`,
    `t14`.`platform`,
    `t14`.`entry_day`,
    `t14`.`m0`,
    `t14`.`m1`,
    `t14`.`m2`,
    `t14`.`m3`,
    `t14`.`m4`,
    `t14`.`m5`,
    IF(`t14`.`m0` > 0, 1.0, 0.0) AS `x0_0`,
    IF(`t14`.`m1` > 0, 1.0, 0.0) AS `x0_1`,
    `t14`.`m2` AS `x1_0`,
    `t14`.`m3` AS `x1_1`,
    `t14`.`m4` AS `x2_0`,
    `t14`.`m0` AS `x2_1`,
    `t14`.`m5` AS `x3_0`,
    `t14`.`m2` AS `x4_0`,
    `t14`.`m0` AS `x4_1`
  FROM (
    SELECT
      `t9`.`experiment_key`,
      `t9`.`unit_id`,
      `t9`.`variant_key`,
      `t9`.`country`,
      `t9`.`platform`,
      DATE(`t9`.`entry_ts`) AS `entry_day`,
      COALESCE(`t13`.`m0`, 0.0) AS `m0`,
      COALESCE(`t13`.`m1`, 0.0) AS `m1`,
      COALESCE(`t13`.`m2`, 0.0) AS `m2`,
      COALESCE(`t13`.`m3`, 0.0) AS `m3`,
      COALESCE(`t13`.`m4`, 0.0) AS `m4`,
      COALESCE(`t13`.`m5`, 0.0) AS `m5`
    FROM `t7` AS `t9`
    LEFT OUTER JOIN (
      SELECT
        `t11`.`experiment_key`,
        `t11`.`unit_id`,
        SUM(
          IF(
            (
              `t11`.`event_name` = 'purchase'
            )
            AND (
              `t11`.`timestamp` >= TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '0' DAY)
            )
            AND (
              `t11`.`timestamp` < TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '14' DAY)
            ),
            1.0,
            0.0
          )
        ) AS `m0`,
        SUM(
          IF(
            (
              `t11`.`event_name` = 'purchase'
            )
            AND (
              `t11`.`timestamp` >= TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '-28' DAY)
            )
            AND (
              `t11`.`timestamp` < TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '0' DAY)
            ),
            1.0,
            0.0
          )
        ) AS `m1`,
        SUM(
          IF(
            (
              `t11`.`event_name` = 'purchase'
            )
            AND (
              `t11`.`timestamp` >= TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '0' DAY)
            )
            AND (
              `t11`.`timestamp` < TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '14' DAY)
            ),
            COALESCE(`t11`.`value`, 0.0),
            0.0
          )
        ) AS `m2`,
        SUM(
          IF(
            (
              `t11`.`event_name` = 'purchase'
            )
            AND (
              `t11`.`timestamp` >= TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '-28' DAY)
            )
            AND (
              `t11`.`timestamp` < TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '0' DAY)
            ),
            COALESCE(`t11`.`value`, 0.0),
            0.0
          )
        ) AS `m3`,
        SUM(
          IF(
            (
              `t11`.`event_name` = 'return'
            )
            AND (
              `t11`.`timestamp` >= TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '0' DAY)
            )
            AND (
              `t11`.`timestamp` < TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '14' DAY)
            ),
            1.0,
            0.0
          )
        ) AS `m4`,
        SUM(
          IF(
            (
              `t11`.`event_name` = 'purchase'
            )
            AND (
              `t11`.`timestamp` >= TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '0' DAY)
            )
            AND (
              `t11`.`timestamp` < TIMESTAMP_ADD(`t11`.`entry_ts`, INTERVAL '14' DAY)
            )
            AND (
              TRUE AND (
                JSON_EXTRACT_SCALAR(`t11`.`properties`, '$.category') = 'camera'
              )
            ),
            COALESCE(`t11`.`value`, 0.0),
            0.0
          )
        ) AS `m5`
      FROM (
        SELECT
          `t4`.`event_id`,
          `t4`.`unit_id`,
          `t4`.`timestamp`,
          `t4`.`event_name`,
          `t4`.`value`,
          `t4`.`properties`,
          `t10`.`experiment_key`,
          `t10`.`unit_id` AS `unit_id_right`,
          `t10`.`entry_ts`,
          `t10`.`n_variants`,
          `t10`.`variant_key`,
          `t10`.`country`,
          `t10`.`platform`,
          `t10`.`exp_end`
        FROM (
          SELECT
            *
          FROM `events` AS `t1`
          WHERE
            `t1`.`event_name` IN ('purchase', 'return')
        ) AS `t4`
        INNER JOIN `t7` AS `t10`
          ON `t4`.`unit_id` = `t10`.`unit_id`
          AND `t4`.`timestamp` >= TIMESTAMP_ADD(`t10`.`entry_ts`, INTERVAL '-28' DAY)
          AND `t4`.`timestamp` < TIMESTAMP_ADD(`t10`.`entry_ts`, INTERVAL '14' DAY)
          AND `t4`.`timestamp` < `t10`.`exp_end`
      ) AS `t11`
      GROUP BY
        1,
        2
    ) AS `t13`
      ON `t9`.`experiment_key` = `t13`.`experiment_key`
      AND `t9`.`unit_id` = `t13`.`unit_id`
  ) AS `t14`
) AS `t15`
GROUP BY
  1,
  2
