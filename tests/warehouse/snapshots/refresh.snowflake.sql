WITH "t7" AS (
  SELECT
    "t4"."experiment_key",
    "t4"."unit_id",
    MIN("t4"."timestamp") AS "entry_ts",
    MIN("t4"."variant_key") <> MAX("t4"."variant_key") AS "mixed",
    MIN("t4"."variant_key") AS "variant_key",
    MIN_BY("t4"."country", "t4"."timestamp") AS "country",
    MIN_BY("t4"."platform", "t4"."timestamp") AS "platform",
    MAX("t4"."exp_end") AS "exp_end"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t0"."experiment_key",
        "t0"."variant_key",
        "t0"."unit_id",
        "t0"."timestamp",
        "t0"."country",
        "t0"."platform",
        "t0"."attributes",
        CASE
          WHEN "t0"."experiment_key" = 'price-discount-10'
          THEN TIMESTAMP_TZ_FROM_PARTS(2026, 1, 31, 0, 0, 0, 0, 'UTC')
          WHEN "t0"."experiment_key" = 'msg-email-subject'
          THEN TIMESTAMP_TZ_FROM_PARTS(2026, 5, 21, 0, 0, 0, 0, 'UTC')
          ELSE TIMESTAMP_TZ_FROM_PARTS(2200, 1, 1, 0, 0, 0, 0, 'UTC')
        END AS "exp_start",
        CASE
          WHEN "t0"."experiment_key" = 'price-discount-10'
          THEN TIMESTAMP_TZ_FROM_PARTS(2026, 3, 14, 0, 0, 0, 0, 'UTC')
          WHEN "t0"."experiment_key" = 'msg-email-subject'
          THEN TIMESTAMP_TZ_FROM_PARTS(2200, 1, 1, 0, 0, 0, 0, 'UTC')
          ELSE TIMESTAMP_TZ_FROM_PARTS(2200, 1, 1, 0, 0, 0, 0, 'UTC')
        END AS "enrol_end",
        CASE
          WHEN "t0"."experiment_key" = 'price-discount-10'
          THEN TIMESTAMP_TZ_FROM_PARTS(2026, 3, 14, 0, 0, 0, 0, 'UTC')
          WHEN "t0"."experiment_key" = 'msg-email-subject'
          THEN TIMESTAMP_TZ_FROM_PARTS(2200, 1, 1, 0, 0, 0, 0, 'UTC')
          ELSE TIMESTAMP_TZ_FROM_PARTS(2200, 1, 1, 0, 0, 0, 0, 'UTC')
        END AS "exp_end"
      FROM "exposures" AS "t0"
      WHERE
        "t0"."experiment_key" IN ('price-discount-10', 'msg-email-subject')
    ) AS "t3"
    WHERE
      "t3"."timestamp" >= "t3"."exp_start" AND "t3"."timestamp" < "t3"."enrol_end"
  ) AS "t4"
  GROUP BY
    1,
    2
)
SELECT
  "t17"."experiment_key",
  "t17"."variant_key",
  "t17"."mixed",
  COUNT(*) AS "n",
  SUM("t17"."w0") AS "n0",
  SUM("t17"."x0_0") AS "s0_0",
  SUM("t17"."x0_1") AS "s0_1",
  SUM("t17"."x0_0" * "t17"."x0_0") AS "q0_0_0",
  SUM("t17"."x0_0" * "t17"."x0_1") AS "q0_0_1",
  SUM("t17"."x0_1" * "t17"."x0_1") AS "q0_1_1",
  SUM("t17"."w1") AS "n1",
  SUM("t17"."x1_0") AS "s1_0",
  SUM("t17"."x1_1") AS "s1_1",
  SUM("t17"."x1_0" * "t17"."x1_0") AS "q1_0_0",
  SUM("t17"."x1_0" * "t17"."x1_1") AS "q1_0_1",
  SUM("t17"."x1_1" * "t17"."x1_1") AS "q1_1_1",
  SUM("t17"."w2") AS "n2",
  SUM("t17"."x2_0") AS "s2_0",
  SUM("t17"."x2_1") AS "s2_1",
  SUM("t17"."x2_0" * "t17"."x2_0") AS "q2_0_0",
  SUM("t17"."x2_0" * "t17"."x2_1") AS "q2_0_1",
  SUM("t17"."x2_1" * "t17"."x2_1") AS "q2_1_1",
  SUM("t17"."w3") AS "n3",
  SUM("t17"."x3_0") AS "s3_0",
  SUM("t17"."x3_0" * "t17"."x3_0") AS "q3_0_0",
  SUM("t17"."w4") AS "n4",
  SUM("t17"."x4_0") AS "s4_0",
  SUM("t17"."x4_1") AS "s4_1",
  SUM("t17"."x4_0" * "t17"."x4_0") AS "q4_0_0",
  SUM("t17"."x4_0" * "t17"."x4_1") AS "q4_0_1",
  SUM("t17"."x4_1" * "t17"."x4_1") AS "q4_1_1"
FROM (
  SELECT
    "t16"."experiment_key",
    "t16"."unit_id",
    "t16"."variant_key",
    "t16"."country",
    "t16"."platform",
    "t16"."mixed",
    "t16"."entry_day",
    "t16"."done_14",
    "t16"."m0",
    "t16"."m1",
    "t16"."m2",
    "t16"."m3",
    "t16"."m4",
    "t16"."m5",
    IFF("t16"."done_14", IFF("t16"."m0" > 0, 1.0, 0.0), 0.0) AS "x0_0",
    IFF("t16"."done_14", IFF("t16"."m1" > 0, 1.0, 0.0), 0.0) AS "x0_1",
    IFF("t16"."done_14", 1.0, 0.0) AS "w0",
    IFF("t16"."done_14", "t16"."m2", 0.0) AS "x1_0",
    IFF("t16"."done_14", "t16"."m3", 0.0) AS "x1_1",
    IFF("t16"."done_14", 1.0, 0.0) AS "w1",
    IFF("t16"."done_14", "t16"."m4", 0.0) AS "x2_0",
    IFF("t16"."done_14", "t16"."m0", 0.0) AS "x2_1",
    IFF("t16"."done_14", 1.0, 0.0) AS "w2",
    IFF("t16"."done_14", "t16"."m5", 0.0) AS "x3_0",
    IFF("t16"."done_14", 1.0, 0.0) AS "w3",
    IFF("t16"."done_14", "t16"."m2", 0.0) AS "x4_0",
    IFF("t16"."done_14", "t16"."m0", 0.0) AS "x4_1",
    IFF("t16"."done_14", 1.0, 0.0) AS "w4"
  FROM (
    SELECT
      "t11"."experiment_key",
      "t11"."unit_id",
      "t11"."variant_key",
      "t11"."country",
      "t11"."platform",
      "t11"."mixed",
      TO_DATE("t11"."entry_ts") AS "entry_day",
      DATEADD(DAY, '14', "t11"."entry_ts") <= "t11"."exp_end" AS "done_14",
      COALESCE("t15"."m0", 0.0) AS "m0",
      COALESCE("t15"."m1", 0.0) AS "m1",
      COALESCE("t15"."m2", 0.0) AS "m2",
      COALESCE("t15"."m3", 0.0) AS "m3",
      COALESCE("t15"."m4", 0.0) AS "m4",
      COALESCE("t15"."m5", 0.0) AS "m5"
    FROM (
      SELECT
        "t8"."experiment_key",
        "t8"."unit_id",
        "t8"."entry_ts",
        "t8"."mixed",
        "t8"."variant_key",
        "t8"."country",
        "t8"."platform",
        "t8"."exp_end",
        CAST(CASE
          WHEN "t8"."experiment_key" = 'price-discount-10'
          THEN 0
          WHEN "t8"."experiment_key" = 'msg-email-subject'
          THEN 1
          ELSE -1
        END AS SMALLINT) AS "xi"
      FROM "t7" AS "t8"
    ) AS "t11"
    LEFT OUTER JOIN (
      SELECT
        "t13"."xi",
        "t13"."unit_id",
        SUM(
          IFF((
            "t13"."code" = 0
          ) AND (
            "t13"."timestamp" >= "t13"."b_p0"
          ), 1.0, 0.0)
        ) AS "m0",
        SUM(IFF((
          "t13"."code" = 0
        ) AND (
          "t13"."timestamp" < "t13"."b_p0"
        ), 1.0, 0.0)) AS "m1",
        SUM(
          IFF(
            (
              "t13"."code" = 0
            ) AND (
              "t13"."timestamp" >= "t13"."b_p0"
            ),
            "t13"."amount",
            0.0
          )
        ) AS "m2",
        SUM(
          IFF(
            (
              "t13"."code" = 0
            ) AND (
              "t13"."timestamp" < "t13"."b_p0"
            ),
            "t13"."amount",
            0.0
          )
        ) AS "m3",
        SUM(
          IFF((
            "t13"."code" = 1
          ) AND (
            "t13"."timestamp" >= "t13"."b_p0"
          ), 1.0, 0.0)
        ) AS "m4",
        SUM(
          IFF(
            (
              "t13"."code" = 0
            ) AND (
              "t13"."timestamp" >= "t13"."b_p0"
            ) AND "t13"."f0",
            "t13"."amount",
            0.0
          )
        ) AS "m5"
      FROM (
        SELECT
          "t6"."unit_id",
          "t6"."timestamp",
          "t6"."code",
          "t6"."amount",
          "t6"."f0",
          "t12"."xi",
          "t12"."unit_id" AS "unit_id_right",
          "t12"."entry_ts",
          "t12"."exp_end",
          "t12"."b_m28",
          "t12"."b_p0",
          "t12"."b_p14",
          "t12"."span_end"
        FROM (
          SELECT
            "t2"."unit_id",
            "t2"."timestamp",
            CASE
              WHEN "t2"."event_name" = 'purchase'
              THEN 0
              WHEN "t2"."event_name" = 'return'
              THEN 1
              ELSE -1
            END AS "code",
            COALESCE("t2"."value", 0.0) AS "amount",
            COALESCE(
              TRUE AND (
                JSON_EXTRACT_PATH_TEXT("t2"."properties", 'category') = 'camera'
              ),
              FALSE
            ) AS "f0"
          FROM (
            SELECT
              *
            FROM "events" AS "t1"
            WHERE
              "t1"."event_name" IN ('purchase', 'return')
          ) AS "t2"
        ) AS "t6"
        INNER JOIN (
          SELECT
            CAST(CASE
              WHEN "t8"."experiment_key" = 'price-discount-10'
              THEN 0
              WHEN "t8"."experiment_key" = 'msg-email-subject'
              THEN 1
              ELSE -1
            END AS SMALLINT) AS "xi",
            "t8"."unit_id",
            "t8"."entry_ts",
            "t8"."exp_end",
            DATEADD(DAY, '-28', "t8"."entry_ts") AS "b_m28",
            DATEADD(DAY, '0', "t8"."entry_ts") AS "b_p0",
            DATEADD(DAY, '14', "t8"."entry_ts") AS "b_p14",
            LEAST(DATEADD(DAY, '14', "t8"."entry_ts"), "t8"."exp_end") AS "span_end"
          FROM "t7" AS "t8"
          WHERE
            NOT (
              "t8"."mixed"
            )
        ) AS "t12"
          ON "t6"."unit_id" = "t12"."unit_id"
          AND "t6"."timestamp" >= "t12"."b_m28"
          AND "t6"."timestamp" < "t12"."span_end"
      ) AS "t13"
      GROUP BY
        1,
        2
    ) AS "t15"
      ON "t11"."xi" = "t15"."xi" AND "t11"."unit_id" = "t15"."unit_id"
  ) AS "t16"
) AS "t17"
GROUP BY
  1,
  2,
  3
