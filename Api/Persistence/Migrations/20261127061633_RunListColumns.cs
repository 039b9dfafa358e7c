using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Experiments.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RunListColumns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "OptimizerType",
                table: "Runs",
                type: "TEXT",
                nullable: true,
                computedColumnSql: "json_extract(Spec, '$.optimizer.type')",
                stored: false);

            migrationBuilder.AddColumn<int>(
                name: "SpecEpochs",
                table: "Runs",
                type: "INTEGER",
                nullable: true,
                computedColumnSql: "json_extract(Spec, '$.epochs')",
                stored: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "OptimizerType",
                table: "Runs");

            migrationBuilder.DropColumn(
                name: "SpecEpochs",
                table: "Runs");
        }
    }
}
